"""Staff accounts: creating them, signing in, and who may see which filing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from accounts import throttle
from core.errors import InvalidInput, NotAuthenticated
from core.security import hash_password, issue_token, read_token, verify_password
from core.settings import Settings
from routing.offices import office_prefix
from routing.repository import department_by_code, office_by_code
from schemas.casework import AuditEntry
from schemas.department import Department
from schemas.enums import Role
from schemas.formats import trim
from schemas.office import Office
from schemas.staff import StaffUser

MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member a request acts as."""

    id: int
    username: str
    role: Role
    department_id: int | None
    department_code: str | None
    office_id: int | None = None
    office_prefix: str | None = None  # admin-code prefix of the area an office user covers

    @property
    def sees_every_department(self) -> bool:
        return self.role in {Role.supervisor, Role.admin, Role.operator}


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    department_code: str | None,
    office_code: str | None = None,
) -> StaffUser:
    """Add a staff account (caller commits). Department staff belong to exactly one department."""
    username = trim(username)
    if not username or len(username) > 64:
        raise InvalidInput("username must be 1–64 characters")
    _check_password(password)
    if session.exec(select(StaffUser).where(StaffUser.username == username)).first():
        raise InvalidInput(f"username {username!r} is taken")
    department, office = _placement(session, role, department_code, office_code)
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        department_id=department.id if department else None,
        office_id=office.id if office else None,
    )
    session.add(user)
    session.flush()
    return user


def _check_password(password: str) -> None:
    # Spaces are allowed in a passphrase but do not make it long: ten spaces are no password.
    if sum(not c.isspace() for c in password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters, not counting spaces"
        )


def _placement(
    session: Session, role: Role, department_code: str | None, office_code: str | None
) -> tuple[Department | None, Office | None]:
    """The department and office an account of this role is given; InvalidInput unless
    department staff name an active department (and maybe an active office of it) and
    every other role names neither."""
    department: Department | None = None
    if role is Role.department:
        if not department_code:
            raise InvalidInput("a department user needs --department CODE")
        department = department_by_code(session, department_code)
        if department is None or not department.active:
            raise InvalidInput(f"no active department with code {department_code!r}")
    elif department_code:
        raise InvalidInput(f"role {role.value} does not belong to a department")
    office = None
    if office_code:
        office = office_by_code(session, office_code)
        if (
            department is None
            or office is None
            or not office.active  # a registry load removed it: nothing is routed there now
            or office.department_id != department.id
        ):
            raise InvalidInput(
                f"no active office {office_code!r} in department {department_code!r}"
            )
    return department, office


def record_account_change(
    session: Session, *, account: StaffUser, action: str, by: str, detail: dict[str, Any]
) -> None:
    """An audit-trail row for a change to a staff account (caller commits with the change):
    who made it (`by`, e.g. cli:root), to which account, and what, never a password."""
    session.add(
        AuditEntry(
            username=by[:64],
            action=f"account:{action}",
            detail={"account": account.username, "account_id": account.id, **detail},
        )
    )


def _account(session: Session, username: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.username == trim(username))).first()
    if user is None or user.id is None:
        raise InvalidInput(f"no account {trim(username)!r}")
    return user


def _credentials_changed(session: Session, user: StaffUser) -> None:
    """Cut off what the account signed in with before: its bearer tokens (their version is
    no longer the current one) and its page sessions (deleted)."""
    from accounts import sessions

    assert user.id is not None
    user.token_epoch += 1
    session.add(user)
    sessions.end_all(session, user.id)


def set_password(session: Session, *, username: str, password: str) -> StaffUser:
    """Give an account a new password (caller commits). Everything signed in with the old one
    stops working at once, and failed tries counted against the account are wiped: the
    owner of a forgotten password may have locked it out while guessing."""
    _check_password(password)
    user = _account(session, username)
    user.password_hash = hash_password(password)
    _credentials_changed(session, user)
    session.flush()
    throttle.reset_account(user.username)
    return user


def set_role(
    session: Session,
    *,
    username: str,
    role: Role,
    department_code: str | None,
    office_code: str | None = None,
) -> StaffUser:
    """Move an account to another role, department or office, checked as `create_user` checks
    them (caller commits). Rights are read from the database on every request anyway; its
    tokens and page sessions end as well, so that nothing signed in before the move outlives it."""
    user = _account(session, username)
    department, office = _placement(session, role, department_code, office_code)
    user.role = role
    user.department_id = department.id if department else None
    user.office_id = office.id if office else None
    _credentials_changed(session, user)
    session.flush()
    return user


def set_active(session: Session, *, username: str, active: bool) -> StaffUser:
    """Disable or enable an account (caller commits). A disabled account's bearer tokens are
    refused from the next request (staff_from_user) and its page sessions are deleted; its
    history, assignments and appointments stay, naming it.

    Disabling also raises the credentials version: the account being inactive refuses its
    tokens only while it stays disabled, and enabling it again would otherwise bring back
    every token issued before, the leaked one an account is often disabled for included."""
    user = _account(session, username)
    user.active = active
    session.add(user)
    if not active:
        _credentials_changed(session, user)
    session.flush()
    return user


def authenticate(
    session: Session, *, username: str, password: str, address: str | None
) -> StaffUser:
    """The account these credentials sign in to; NotAuthenticated if wrong, TooManyRequests
    while the account or the address has used up its tries (accounts.throttle)."""
    counted = throttle.count_try(username, address)
    user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise NotAuthenticated("wrong username or password")
    throttle.forgive(counted)
    return user


def token_for(user: StaffUser, settings: Settings) -> str:
    return issue_token(
        subject=str(user.id),
        role=user.role.value,
        epoch=user.token_epoch,
        key=settings.signing_key(),
        ttl_minutes=settings.token_ttl_minutes,
    )


def staff_from_token(session: Session, *, token: str, settings: Settings) -> Staff:
    claims = read_token(token, key=settings.signing_key())
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise NotAuthenticated("invalid token") from exc
    # A token issued before migration 0017 has no version: it is read as 0, the version every
    # account started at, so upgrading signs nobody out, and the account's first new password
    # or move (version 1) refuses it like any other old token.
    epoch = claims.get("epoch", 0)
    if type(epoch) is not int:  # a bool is an int to isinstance; no issuer writes one
        raise NotAuthenticated("invalid token")
    return staff_signed_in_at(session, session.get(StaffUser, user_id), epoch)


def staff_signed_in_at(session: Session, user: StaffUser | None, epoch: int) -> Staff:
    """The Staff of a bearer token or page session issued under credentials version `epoch`;
    NotAuthenticated once the account's version moved on (a new password, role or a disable
    since) or it is gone or disabled."""
    if user is not None and epoch != user.token_epoch:
        raise NotAuthenticated(
            "the password, role or access of this account changed; sign in again"
        )
    return staff_from_user(session, user)


def staff_from_user(session: Session, user: StaffUser | None) -> Staff:
    """The Staff a signed-in account acts as; NotAuthenticated if gone or disabled."""
    if user is None or not user.active or user.id is None:
        raise NotAuthenticated("this account no longer exists or is disabled")
    department = session.get(Department, user.department_id) if user.department_id else None
    office = session.get(Office, user.office_id) if user.office_id else None
    return Staff(
        id=user.id,
        username=user.username,
        role=user.role,
        department_id=user.department_id,
        department_code=department.code if department else None,
        office_id=user.office_id,
        office_prefix=office_prefix(office) if office else None,
    )
