"""The statistics report as one CSV and back: a `section` column, then every section's fields.

Empty cells are None; floats are written with Python's shortest exact repr, so reading the
file back gives the very report that was written (tests check the round trip).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput
from schemas.statistics import (
    DeadlineCompliance,
    FilingCount,
    FollowUps,
    Outcomes,
    Satisfaction,
    StatsFilter,
    StatsReport,
    Timing,
    UnsatisfiedCall,
)

SECTIONS: dict[str, type[BaseModel]] = {
    "filter": StatsFilter,
    "filings": FilingCount,
    "totals": FilingCount,
    "deadlines": DeadlineCompliance,
    "timings": Timing,
    "outcomes": Outcomes,
    "satisfaction": Satisfaction,
    "follow_ups": FollowUps,
    "unsatisfied_calls": UnsatisfiedCall,
}
_FIELDS = dict.fromkeys(name for model in SECTIONS.values() for name in model.model_fields)
COLUMNS = ["section", *_FIELDS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_csv(report: StatsReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow({"section": "filter", **_cells(report.filter)})
    for section in list(SECTIONS)[1:]:
        for row in getattr(report, section):
            writer.writerow({"section": section, **_cells(row)})
    return out.getvalue()


def _cells(row: BaseModel) -> dict[str, str]:
    return {name: _cell(value) for name, value in row.model_dump(mode="json").items()}


def from_csv(text: str) -> StatsReport:
    """Read a report written by `to_csv`; InvalidInput names the line at fault."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames != COLUMNS:
        raise InvalidInput("not a statistics CSV: the header differs")
    sections: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    for line, cells in enumerate(reader, start=2):
        model = SECTIONS.get(cells.get("section") or "")
        if model is None:
            raise InvalidInput(f"line {line}: unknown section {cells.get('section')!r}")
        values = {name: (cells[name] or None) for name in model.model_fields}
        try:
            sections[cells["section"]].append(model.model_validate(values))
        except ValidationError as exc:
            raise InvalidInput(f"line {line}: {exc.errors()[0]['msg']}") from exc
    if len(sections["filter"]) != 1:
        raise InvalidInput("a statistics CSV has exactly one filter line")
    return StatsReport(filter=sections.pop("filter")[0], **sections)
