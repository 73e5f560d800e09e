"""The department registry file: its format, its checks, and loading it into the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlmodel import Session

from core.errors import InvalidInput
from core.timeutil import utcnow
from routing import repository
from schemas.department import Department, RegistryLoad

DEFAULT_REGISTRY = Path(__file__).parent / "registries" / "default.yaml"
SUPPORTED_SCHEMA = 1

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]


class RegistryDepartment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    aliases: list[Word] = Field(default_factory=list)
    duties: str = Field(default="", max_length=2000)
    sectors: list[Code] = Field(default_factory=list)
    keywords: list[Word] = Field(default_factory=list)
    triage: bool = False


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(alias="schema")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    source: str = ""
    sectors: dict[Code, str] = Field(default_factory=dict)
    departments: list[RegistryDepartment] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> RegistryFile:
        if self.schema_version != SUPPORTED_SCHEMA:
            raise ValueError(
                f"schema {self.schema_version} is not supported "
                f"(this version reads {SUPPORTED_SCHEMA})"
            )
        codes = [d.code for d in self.departments]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"department codes must be unique; repeated: {duplicates}")
        triage = [d.code for d in self.departments if d.triage]
        if len(triage) != 1:
            raise ValueError(f"exactly one department must have triage: true, found {triage}")
        for dept in self.departments:
            undeclared = sorted(set(dept.sectors) - set(self.sectors))
            if undeclared:
                raise ValueError(f"department {dept.code}: sectors not declared: {undeclared}")
            if not dept.triage and not (dept.keywords or dept.aliases):
                raise ValueError(f"department {dept.code}: needs keywords or aliases to be found")
        return self

    @property
    def triage_code(self) -> str:
        return next(d.code for d in self.departments if d.triage)


@dataclass(frozen=True)
class ParsedRegistry:
    registry: RegistryFile
    sha256: str
    path: Path


@dataclass
class LoadSummary:
    version: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def parse_registry(path: Path) -> ParsedRegistry:
    """Read and check a registry file; InvalidInput says what is wrong and where."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: expected a mapping with schema, version, departments")
    try:
        registry = RegistryFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidInput(f"{path}: {problems}") from exc
    return ParsedRegistry(registry=registry, sha256=hashlib.sha256(raw).hexdigest(), path=path)


def load_registry(session: Session, parsed: ParsedRegistry) -> LoadSummary:
    """Make the database's departments match the file (caller commits, so it is all or nothing).

    Departments missing from the file are deactivated, not deleted: filings keep pointing
    at them and their history stays readable.
    """
    registry = parsed.registry
    summary = LoadSummary(version=registry.version)
    existing = repository.departments_by_code(session)
    now = utcnow()
    for entry in registry.departments:
        values: dict[str, Any] = {
            "name": entry.name,
            "aliases": list(entry.aliases),
            "duties": entry.duties.strip(),
            "sectors": list(entry.sectors),
            "keywords": list(entry.keywords),
            "is_triage": entry.triage,
            "active": True,
            "registry_version": registry.version,
            "updated_at": now,
        }
        dept = existing.pop(entry.code, None)
        if dept is None:
            session.add(Department(code=entry.code, **values))
            summary.added.append(entry.code)
        else:
            for name, value in values.items():
                setattr(dept, name, value)
            session.add(dept)
            summary.updated.append(entry.code)
    for code, dept in existing.items():
        if dept.active:
            dept.active = False
            dept.is_triage = False
            dept.updated_at = now
            session.add(dept)
            summary.deactivated.append(code)
    session.add(
        RegistryLoad(
            version=registry.version,
            name=registry.name,
            source_sha256=parsed.sha256,
            sectors=dict(registry.sectors),
        )
    )
    session.flush()
    return summary
