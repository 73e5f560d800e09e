"""Offices: a department's presence per place, and which office handles a filing.

Jurisdiction (DOMAIN.md): a complaint goes to the county-level office where the business
operates, a tip-off to the office at county level or above where the conduct happened.
So a filing goes to the office of the most specific division its place names: county,
else city, else province; a filing with no known place, or one outside the jurisdiction,
goes to the department's broadest office, which passes it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from classifiers.place import Division, Gazetteer, Place, gazetteer
from schemas.complaint import Complaint
from schemas.office import Office

if TYPE_CHECKING:
    from routing.registry import RegistryFile

_LEVEL_RANK = {"province": 0, "city": 1, "county": 2}


class _OfficeLike(Protocol):
    @property
    def level(self) -> str: ...
    @property
    def admin_code(self) -> str: ...


AnOffice = TypeVar("AnOffice", bound=_OfficeLike)


@dataclass(frozen=True)
class OfficeRow:
    code: str
    name: str
    level: str
    admin_code: str
    province: str
    city: str | None
    county: str | None


def expand_offices(registry: RegistryFile) -> dict[str, list[OfficeRow]]:
    """Every department's offices, with places resolved to administrative divisions."""
    home = registry.jurisdiction.province if registry.jurisdiction else None
    places = gazetteer(home)
    if home is not None and not any(
        d.level == "province" and d.province == home for d in places.find_name(home)
    ):
        raise ValueError(f"jurisdiction.province: {home!r} is not a province")
    result: dict[str, list[OfficeRow]] = {}
    for dept in registry.departments:
        rows: dict[str, OfficeRow] = {}
        generated = [o for o in dept.offices if o.levels]
        explicit = [o for o in dept.offices if o.place]
        for spec in generated:
            for division in places.divisions:
                if division.province == home and division.level in (spec.levels or []):
                    rows[division.code] = _office_row(dept.code, spec.name, division)
        for spec in explicit:
            resolved = _resolve_place(places, spec.place or "")
            if resolved is None:
                raise ValueError(
                    f"departments.{dept.code}.offices: place {spec.place!r} is not a known "
                    "province, city or county (write it in full, e.g. 山西省太原市小店区)"
                )
            rows[resolved.code] = _office_row(dept.code, spec.name, resolved)
        result[dept.code] = sorted(rows.values(), key=lambda r: r.admin_code)
    return result


def _resolve_place(places: Gazetteer, text: str) -> Division | None:
    found = places.locate(text)
    if found is None or found.code is None or found.level is None:
        return None
    return Division(found.level, found.province or "", found.city, found.county, found.code)


def _office_row(department: str, template: str, division: Division) -> OfficeRow:
    if division.level == "province":
        label = division.province
    elif division.level == "city":
        label = division.city or division.province
    else:
        label = f"{division.city or ''}{division.county or ''}"
    return OfficeRow(
        code=f"{department}-{division.code}",
        name=template.replace("{place}", label),
        level=division.level,
        admin_code=division.code,
        province=division.province,
        city=division.city,
        county=division.county,
    )


def division_codes(place: Place | None) -> list[str]:
    """The codes of the place's county, city and province, most specific first."""
    if place is None or not place.code:
        return []
    code = place.code
    chain = [code, code[:4] + "00", code[:2] + "0000"]
    return list(dict.fromkeys(chain))


def stored_place(complaint: Complaint) -> Place | None:
    """The place routing found for a filing, as kept on its row (None if it found none)."""
    if not complaint.place_code:
        return None
    return Place(
        province=complaint.place_province,
        city=complaint.place_city,
        county=complaint.place_county,
        code=complaint.place_code,
    )


@dataclass(frozen=True)
class ActiveOffice:
    """An active office as routing needs it, kept in memory between transactions (the
    registry is its only writer, and a new registry load rebuilds it: routing.engine)."""

    id: int
    code: str
    name: str
    level: str
    admin_code: str

    @classmethod
    def of(cls, office: Office) -> ActiveOffice:
        assert office.id is not None
        return cls(office.id, office.code, office.name, office.level, office.admin_code)


class OfficeIndex(Generic[AnOffice]):
    """A department's offices, ready to choose from: what `choose_office` looks up, built
    once. Choosing among a department's 134 county offices built the look-up anew for
    every filing routed (a twentieth of the router's CPU, py-spy under bench/routing.py)."""

    def __init__(self, offices: Sequence[AnOffice]) -> None:
        self.by_code = {o.admin_code: o for o in offices}
        # No place, or none of its divisions has an office: the broadest office.
        self.broadest = min(
            offices, key=lambda o: (_LEVEL_RANK.get(o.level, 9), o.admin_code), default=None
        )

    def choose(self, place: Place | None) -> AnOffice | None:
        for code in division_codes(place):
            office = self.by_code.get(code)
            if office is not None:
                return office
        return self.broadest


def choose_office(offices: Sequence[AnOffice], place: Place | None) -> AnOffice | None:
    """The office that handles a filing about `place` (None when the department has none)."""
    return OfficeIndex(offices).choose(place)


def office_prefix(office: Office) -> str:
    """Admin-code prefix of the area an office answers for (its own and everything below)."""
    if office.level == "province" or office.admin_code[2:4] == "00":
        return office.admin_code[:2]
    return office.admin_code[:4] if office.level == "city" else office.admin_code
