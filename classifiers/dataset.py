"""Labelled texts from a CSV file, with a clear error for every way the file can be unusable."""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

from classifiers.errors import DatasetError

log = logging.getLogger(__name__)


class LabelledRows(tuple[list[str], list[str]]):
    """(texts, labels), unpacked like a pair; `skipped_rows` counts rows with no text or label."""

    skipped_rows: int

    def __new__(cls, texts: list[str], labels: list[str], skipped_rows: int = 0) -> LabelledRows:
        rows = super().__new__(cls, (texts, labels))
        rows.skipped_rows = skipped_rows
        return rows

    @property
    def texts(self) -> list[str]:
        return self[0]

    @property
    def labels(self) -> list[str]:
        return self[1]


def read_labelled_csv(
    path: str | Path, text_column: str, label_column: str, *, for_training: bool = False
) -> LabelledRows:
    """Texts and labels of a UTF-8 CSV with a header; rows missing either are skipped, counted."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a directory, not a CSV file")
    if not path.is_file():
        raise DatasetError(f"data file not found: {path}")
    if path.stat().st_size == 0:
        raise DatasetError(f"{path} is empty")
    texts: list[str] = []
    labels: list[str] = []
    skipped = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            if not any(header):
                raise DatasetError(f"{path} has no header row (the first line is empty)")
            missing = [c for c in (text_column, label_column) if c not in header]
            if missing:
                raise DatasetError(
                    f"{path} has no column {', '.join(map(repr, missing))}; "
                    f"its columns are: {', '.join(h for h in header if h)}",
                    columns=header,
                )
            reader.fieldnames = header
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if text and label:
                    texts.append(text)
                    labels.append(label)
                else:
                    skipped += 1
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8"
        ) from exc
    except csv.Error as exc:
        raise DatasetError(f"{path} is not a readable CSV file: {exc}") from exc
    if not texts:
        if skipped:
            raise DatasetError(
                f"{path}: all {skipped} rows lack a text in {text_column!r} "
                f"or a label in {label_column!r}"
            )
        raise DatasetError(f"{path} has a header but no rows")
    if skipped:
        log.warning("%s: skipped %d rows without a text or a label", path, skipped)
    if for_training:
        require_several_classes(labels, source=str(path))
    return LabelledRows(texts, labels, skipped)


def require_several_classes(labels: Sequence[str], *, source: str = "the training data") -> None:
    """A classifier needs at least two different labels to learn anything."""
    distinct = set(labels)
    if len(distinct) < 2:
        only = f" ({next(iter(distinct))!r})" if distinct else ""
        raise DatasetError(
            f"{source} has {len(distinct)} label{only}; training needs at least two classes"
        )
