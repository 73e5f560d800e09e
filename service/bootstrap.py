"""First-run preparation for `serve`: schema, default registry, a demo admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from accounts.service import create_user
from core import migrate
from core.db import session_scope
from routing.registry import DEFAULT_REGISTRY, LoadSummary, load_registry, parse_registry
from routing.repository import latest_registry_load
from schemas.enums import Role
from schemas.staff import StaffUser

DEMO_ADMIN = "admin"


@dataclass(frozen=True)
class Prepared:
    registry: LoadSummary | None  # None when a registry was already loaded
    admin_password: str | None  # None when an admin already existed


def prepare(registry_file: Path | None) -> Prepared:
    migrate.upgrade()
    with session_scope() as session:
        summary = None
        if latest_registry_load(session) is None:
            summary = load_registry(session, parse_registry(registry_file or DEFAULT_REGISTRY))
        password = None
        if session.exec(select(StaffUser).where(StaffUser.role == Role.admin)).first() is None:
            password = secrets.token_urlsafe(12)
            create_user(
                session,
                username=DEMO_ADMIN,
                password=password,
                role=Role.admin,
                department_code=None,
            )
        session.commit()
    return Prepared(registry=summary, admin_password=password)
