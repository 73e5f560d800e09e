"""Versioned YAML data files (registry, policy): read, parsed and checked with one message shape."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)


def read_yaml_model(path: Path, model: type[Model], *, what: str) -> tuple[Model, bytes]:
    """The file parsed into `model`, and its bytes; InvalidInput names the file and the field."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{what} {path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what} {path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{what} {path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} {path}: expected a mapping of its fields")
    try:
        return model.model_validate(data), raw
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidInput(f"{what} {path}: {problems}") from exc
