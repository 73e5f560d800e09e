"""Queries on departments and registry loads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from sqlmodel import Session, col, select

from core.db import session_memo
from schemas.casework import OdrBusiness
from schemas.complaint import Complaint
from schemas.department import Department, RegistryLoad
from schemas.enums import Status
from schemas.office import Office


def departments_by_code(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.exec(select(Department)).all()}


def known_departments(session: Session) -> Mapping[str, Department]:
    """Every department by code, read once per transaction: the router looks them up for
    every filing of a batch. Read-only; registry loads use `departments_by_code`."""
    return session_memo(
        session, "known_departments", lambda: MappingProxyType(departments_by_code(session))
    )


def active_departments(session: Session) -> Sequence[Department]:
    return session.exec(
        select(Department).where(col(Department.active)).order_by(col(Department.code))
    ).all()


def department_by_code(session: Session, code: str) -> Department | None:
    return session.exec(select(Department).where(Department.code == code)).first()


def triage_department(session: Session) -> Department | None:
    return next((d for d in known_departments(session).values() if d.is_triage and d.active), None)


def latest_registry_load(session: Session) -> RegistryLoad | None:
    return session.exec(select(RegistryLoad).order_by(col(RegistryLoad.id).desc()).limit(1)).first()


def sector_labels(session: Session) -> Mapping[str, str]:
    """The latest registry's sector labels, read once per transaction: the router asks for
    them per filing, and the query (with the autoflush before it) cost a quarter of routing."""

    def load() -> Mapping[str, str]:
        registry = latest_registry_load(session)
        return MappingProxyType(dict(registry.sectors) if registry else {})

    return session_memo(session, "sector_labels", load)


def all_offices(session: Session) -> Sequence[Office]:
    return session.exec(select(Office)).all()


def active_offices(session: Session, department_id: int) -> Sequence[Office]:
    """A department's active offices; read once per transaction."""
    return session_memo(
        session,
        ("active_offices", department_id),
        lambda: session.exec(
            select(Office)
            .where(Office.department_id == department_id)
            .where(col(Office.active))
            .order_by(col(Office.admin_code))
        ).all(),
    )


def every_active_office(session: Session) -> Sequence[Office]:
    """Every department's active offices (for the routing engine's index of them)."""
    return session.exec(
        select(Office).where(col(Office.active)).order_by(col(Office.admin_code))
    ).all()


def office_by_code(session: Session, code: str) -> Office | None:
    return session.exec(select(Office).where(Office.code == code)).first()


def odr_participant(session: Session, uscc: str) -> bool:
    found = session.exec(
        select(OdrBusiness.id)
        .where(OdrBusiness.business_uscc == uscc)
        .where(col(OdrBusiness.active))
    ).first()
    return found is not None


def odr_business(session: Session, uscc: str) -> OdrBusiness | None:
    return session.exec(select(OdrBusiness).where(OdrBusiness.business_uscc == uscc)).first()


def untaken_at_inactive_places(session: Session, statuses: Sequence[Status]) -> Sequence[Complaint]:
    """Filings in `statuses` (not yet taken on) whose department or office is inactive."""
    inactive_departments = select(Department.id).where(col(Department.active).is_(False))
    inactive_offices = select(Office.id).where(col(Office.active).is_(False))
    return session.exec(
        select(Complaint)
        .where(col(Complaint.status).in_(list(statuses)))
        .where(
            col(Complaint.department_id).in_(inactive_departments)
            | col(Complaint.office_id).in_(inactive_offices)
        )
        .order_by(col(Complaint.id))
    ).all()
