"""The department registry file: its format, its checks, and loading it into the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from sqlmodel import Session

from cases.lifecycle import TRANSFERABLE, Actor, transition
from classifiers.place import gazetteer
from core.datafile import read_yaml_model
from core.errors import InvalidInput
from core.timeutil import utcnow
from routing import repository
from routing.offices import OfficeRow, choose_office, expand_offices, stored_place
from routing.platforms import Platform, PlatformSpec, resolve
from schemas.department import Department, RegistryLoad
from schemas.enums import Status
from schemas.office import Office

DEFAULT_REGISTRY = Path(__file__).parent / "registries" / "default.yaml"
SUPPORTED_SCHEMA = 1

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]


class OfficeSpec(BaseModel):
    """Either one office for a `place`, or one per division of the jurisdiction at `levels`.

    `name` may hold {place}: 山西省 at province level, 太原市 at city level, 太原市小店区 at
    county level.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    place: str | None = None
    levels: list[Literal["province", "city", "county"]] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> OfficeSpec:
        if (self.place is None) == (self.levels is None):
            raise ValueError("an office has either `place` or `levels`, not both or neither")
        return self


class Jurisdiction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2)]


class RegistryDepartment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    aliases: list[Word] = Field(default_factory=list)
    duties: str = Field(default="", max_length=2000)
    sectors: list[Code] = Field(default_factory=list)
    keywords: list[Word] = Field(default_factory=list)
    triage: bool = False
    offices: list[OfficeSpec] = Field(default_factory=list)


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(alias="schema")
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    source: str = ""
    jurisdiction: Jurisdiction | None = None
    sectors: dict[Code, str] = Field(default_factory=dict)
    departments: list[RegistryDepartment] = Field(min_length=2)
    platforms: list[PlatformSpec] = Field(default_factory=list)

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
            if any(o.levels for o in dept.offices) and self.jurisdiction is None:
                raise ValueError(
                    f"department {dept.code}: offices by `levels` need a top-level jurisdiction"
                )
        return self

    @property
    def triage_code(self) -> str:
        return next(d.code for d in self.departments if d.triage)


@dataclass(frozen=True)
class ParsedRegistry:
    registry: RegistryFile
    sha256: str
    path: Path
    offices: dict[str, list[OfficeRow]] = field(default_factory=dict)  # by department code
    platforms: list[Platform] = field(default_factory=list)


@dataclass
class LoadSummary:
    version: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    offices: int = 0
    requeued: int = 0  # untaken filings of a department it no longer lists: back to triage
    reassigned: int = 0  # untaken filings of an office it no longer lists: to the one now


def parse_registry(path: Path) -> ParsedRegistry:
    """Read and check a registry file; InvalidInput says what is wrong and where."""
    registry, raw = read_yaml_model(path, RegistryFile, what="registry")
    home = registry.jurisdiction.province if registry.jurisdiction else None
    try:
        offices = expand_offices(registry)
        platforms = resolve(registry.platforms, gazetteer(home))
    except ValueError as exc:
        raise InvalidInput(f"{path}: {exc}") from exc
    return ParsedRegistry(
        registry=registry,
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        offices=offices,
        platforms=platforms,
    )


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
    session.flush()
    summary.offices = _load_offices(session, parsed, now)
    session.flush()
    summary.requeued, summary.reassigned = _reroute_untaken(session, registry.version)
    session.add(
        RegistryLoad(
            version=registry.version,
            name=registry.name,
            source_sha256=parsed.sha256,
            sectors=dict(registry.sectors),
            home_province=registry.jurisdiction.province if registry.jurisdiction else None,
            platforms=[p.stored() for p in parsed.platforms],
        )
    )
    session.flush()
    return summary


def _load_offices(session: Session, parsed: ParsedRegistry, now: datetime) -> int:
    """Upsert every office by code; deactivate the ones the file no longer has."""
    departments = repository.departments_by_code(session)
    existing = {o.code: o for o in repository.all_offices(session)}
    wanted = 0
    for dept_code, rows in parsed.offices.items():
        department_id = departments[dept_code].id
        assert department_id is not None
        for row in rows:
            office = existing.pop(row.code, None) or Office(
                code=row.code,
                department_id=department_id,
                name=row.name,
                level=row.level,
                admin_code=row.admin_code,
                province=row.province,
                registry_version=parsed.registry.version,
            )
            office.department_id = department_id
            office.name = row.name
            office.level = row.level
            office.admin_code = row.admin_code
            office.province = row.province
            office.city = row.city
            office.county = row.county
            office.active = True
            office.registry_version = parsed.registry.version
            office.updated_at = now
            session.add(office)
            wanted += 1
    for office in existing.values():
        if office.active:
            office.active = False
            office.updated_at = now
            session.add(office)
    return wanted


REGISTRY = Actor.system("registry")


def _reroute_untaken(session: Session, version: str) -> tuple[int, int]:
    """Filings not yet taken on (routed, or waiting in triage) at a department or office the
    registry no longer has: (sent back to triage, moved to the office now in charge).

    Left where they were, they would wait in a queue no new account can join (accounts
    belong to active departments) while their clock runs. Filings already taken on stay
    with the department that took them, whose staff finish what they began.
    """
    # Read afresh, not through the per-transaction memos: this transaction just changed them.
    departments = {d.id: d for d in repository.departments_by_code(session).values()}
    triage = next(d for d in departments.values() if d.is_triage and d.active)  # exactly one
    offices: dict[int, list[Office]] = {}
    for row in repository.all_offices(session):
        if row.active:
            offices.setdefault(row.department_id, []).append(row)
    requeued = reassigned = 0
    for complaint in repository.untaken_at_inactive_places(session, sorted(TRANSFERABLE)):
        department = departments.get(complaint.department_id)
        if department is None or not department.active:
            was = department.code if department else None
            changes = {"department_id": triage.id, "office_id": None}
            reason = f"registry {version} no longer lists department {was}"
            to_status, note = Status.triage, "转人工分拣，重新确定承办部门"
            requeued += 1
        else:
            assert department.id is not None
            office = choose_office(offices.get(department.id, []), stored_place(complaint))
            changes = {"office_id": office.id if office else None}
            reason = f"registry {version} no longer lists the filing's office"
            to_status = complaint.status
            note = f"已转至{office.name if office else department.name}办理"
            reassigned += 1
        transition(
            session,
            complaint=complaint,
            to_status=to_status,
            actor=REGISTRY,
            reason=reason,
            public_note=note,
            changes=changes,
            payload={"registry_version": version},
        )
    return requeued, reassigned
