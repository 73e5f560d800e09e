"""Queries on departments and registry loads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from schemas.casework import OdrBusiness
from schemas.department import Department, RegistryLoad
from schemas.office import Office


def departments_by_code(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.exec(select(Department)).all()}


def active_departments(session: Session) -> Sequence[Department]:
    return session.exec(
        select(Department).where(col(Department.active)).order_by(col(Department.code))
    ).all()


def department_by_code(session: Session, code: str) -> Department | None:
    return session.exec(select(Department).where(Department.code == code)).first()


def triage_department(session: Session) -> Department | None:
    return session.exec(
        select(Department).where(col(Department.is_triage)).where(col(Department.active))
    ).first()


def latest_registry_load(session: Session) -> RegistryLoad | None:
    return session.exec(select(RegistryLoad).order_by(col(RegistryLoad.id).desc()).limit(1)).first()


def all_offices(session: Session) -> Sequence[Office]:
    return session.exec(select(Office)).all()


def active_offices(session: Session, department_id: int) -> Sequence[Office]:
    return session.exec(
        select(Office)
        .where(Office.department_id == department_id)
        .where(col(Office.active))
        .order_by(col(Office.admin_code))
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
