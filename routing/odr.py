"""Businesses in online dispute resolution (ODR): their complaints go to them first
(routing.service._refer_to_odr). An administrator adds them with `complaints odr add`."""

from __future__ import annotations

from sqlmodel import Session

from core.errors import InvalidInput
from routing import repository
from schemas.casework import OdrBusiness
from schemas.formats import trim
from schemas.validators import normalize_uscc, uscc_problem

NAME_MAX = 200  # the column's length: PostgreSQL refuses a longer one mid-transaction


def add_participant(session: Session, *, uscc: str, name: str) -> OdrBusiness:
    """Add a business by its credit code, or rename and re-activate it (caller commits)."""
    code = normalize_uscc(uscc)
    problem = uscc_problem(code)
    if problem:
        raise InvalidInput(f"--uscc: unified social credit code {problem}")
    name = trim(name)
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"--name: the business's name, 1 to {NAME_MAX} characters")
    row = repository.odr_business(session, code) or OdrBusiness(business_uscc=code, name=name)
    row.name, row.active = name, True
    session.add(row)
    session.flush()
    return row
