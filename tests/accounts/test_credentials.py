"""A new password or a move to another role or department cuts off what the account signed in
with before: bearer tokens (their credentials version is no longer the current one) and page
sessions (deleted). Commands are run as an administrator runs them, in their own process."""

from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.db import get_engine
from core.settings import get_settings
from core.timeutil import utcnow
from routing.repository import department_by_code
from routing.tasks import route_complaint
from schemas.complaint import Complaint
from schemas.enums import Role
from schemas.staff import StaffSession, StaffUser
from tests.helpers import PASSWORD, add_staff, bearer, run_cli, valid_filing
from tests.helpers import sign_in_page as page_sign_in

pytestmark = pytest.mark.usefixtures("sqlite_platform")

NEW_PASSWORD = "another-horse-staple"


_cli = run_cli


def _token(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _user(username: str) -> StaffUser:
    with Session(get_engine(read_only=True)) as db:
        return db.exec(select(StaffUser).where(StaffUser.username == username)).one()


def _sessions_of(username: str) -> list[StaffSession]:
    user = _user(username)
    with Session(get_engine(read_only=True)) as db:
        return list(db.exec(select(StaffSession).where(StaffSession.staff_id == user.id)).all())


def _refused(answer: Any) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "NotAuthenticated"
    assert "sign in again" in answer.json()["detail"]


def test_set_password_refuses_the_old_token_the_old_password_and_the_page_session(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "forgot", Role.department, "quality")
    old = bearer(client, "forgot")
    page_sign_in(client, "forgot")
    assert client.get("/staff/desk", follow_redirects=False).status_code == 200
    assert _sessions_of("forgot") != []

    done = _cli("users", "set-password", "--username", "forgot", "--password", NEW_PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "new password for forgot" in done.stdout

    _refused(client.get("/api/v1/queue", headers=old))
    assert client.get("/staff/desk", follow_redirects=False).status_code in (302, 303)
    assert _sessions_of("forgot") == []
    assert _token(client, "forgot", PASSWORD).status_code == 401
    new = _token(client, "forgot", NEW_PASSWORD)
    assert new.status_code == 200, new.text
    headers = {"Authorization": f"Bearer {new.json()['access_token']}"}
    assert client.get("/api/v1/queue", headers=headers).status_code == 200
    # The password is hashed by the command at the production cost, as `users create` does.
    assert _user("forgot").password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_set_password_asks_for_the_password_twice_without_echo(session: Session) -> None:
    from core.security import verify_password

    add_staff(session, "asked", Role.admin)
    typed = f"{NEW_PASSWORD}\nsomething-else-typed\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    done = _cli("users", "set-password", "--username", "asked", typed=typed)
    assert done.returncode == 0, done.stderr
    assert NEW_PASSWORD not in done.stdout
    assert "do not match" in done.stdout + done.stderr
    assert verify_password(_user("asked").password_hash, NEW_PASSWORD)


@pytest.fixture
def fixed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 s into a 900 s window: no window ends halfway through the test."""
    from types import SimpleNamespace

    from intake import limits

    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: 1_800_000_000 + 100))


@pytest.mark.usefixtures("fixed_window")
def test_a_new_password_forgets_the_accounts_failed_sign_ins(
    client: TestClient, session: Session
) -> None:
    """Run in this process, not by the command: the window is fixed in this process only."""
    from accounts.service import set_password

    add_staff(session, "locked", Role.operator)
    assert [_token(client, "locked", f"guess-{i:06d}").status_code for i in range(10)] == [401] * 10
    assert _token(client, "locked", PASSWORD).status_code == 429
    with Session(get_engine()) as db:
        set_password(db, username="locked", password=NEW_PASSWORD)
        db.commit()
    assert _token(client, "locked", NEW_PASSWORD).status_code == 200


def _old_style_token(username: str, **extra: Any) -> dict[str, str]:
    """A token as issued before migration 0017: no credentials version in it."""
    now = int(utcnow().timestamp())
    claims = {"sub": str(_user(username).id), "role": "supervisor", "iat": now, "exp": now + 600}
    token = jwt.encode(claims | extra, get_settings().signing_key(), algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def test_a_token_from_before_versions_works_until_the_accounts_first_change(
    client: TestClient, session: Session
) -> None:
    """Upgrading signs nobody out (such a token is read as version 0, where every account
    starts); the first new password refuses it like any other token issued before."""
    add_staff(session, "boss", Role.supervisor)
    unversioned = _old_style_token("boss")
    assert client.get("/api/v1/queue", headers=unversioned).status_code == 200
    # A version that is not a number is no version this platform issued.
    assert client.get("/api/v1/queue", headers=_old_style_token("boss", epoch="0")).status_code == (
        401
    )
    done = _cli("users", "set-password", "--username", "boss", "--password", NEW_PASSWORD)
    assert done.returncode == 0, done.stderr
    _refused(client.get("/api/v1/queue", headers=unversioned))


def _routed_filing(client: TestClient, department: str) -> int:
    """A filing routed by the router (to quality: an elevator), then set at `department`."""
    number = client.post("/api/v1/complaints", json=valid_filing()).json()["tracking_number"]
    with Session(get_engine(read_only=True)) as db:
        complaint_id = db.exec(
            select(Complaint.id).where(Complaint.tracking_number == number)
        ).one()
    assert complaint_id is not None
    assert route_complaint(complaint_id).startswith("routed:")
    if department != "quality":
        with Session(get_engine()) as db:
            row = db.get(Complaint, complaint_id)
            target = department_by_code(db, department)
            assert row is not None
            assert target is not None
            row.department_id, row.office_id = target.id, None
            db.add(row)
            db.commit()
    return complaint_id


def _queue_ids(client: TestClient, headers: dict[str, str]) -> list[int]:
    answer = client.get("/api/v1/queue", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["data"]]


def test_set_role_moves_a_department_user_to_the_new_departments_filings(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "mover", Role.department, "quality")
    quality_filing = _routed_filing(client, "quality")
    aic_filing = _routed_filing(client, "aic")
    old = bearer(client, "mover")
    page_sign_in(client, "mover")
    assert _queue_ids(client, old) == [quality_filing]
    assert client.get(f"/api/v1/complaints/{aic_filing}", headers=old).status_code == 404

    done = _cli("users", "set-role", "--username", "mover", "--role", "department",
                "--department", "aic")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mover is now department of aic" in done.stdout

    _refused(client.get("/api/v1/queue", headers=old))
    assert _sessions_of("mover") == []
    new = bearer(client, "mover")
    assert _queue_ids(client, new) == [aic_filing]
    assert client.get(f"/api/v1/complaints/{aic_filing}", headers=new).status_code == 200
    assert client.get(f"/api/v1/complaints/{quality_filing}", headers=new).status_code == 404
    me = client.get("/api/v1/auth/me", headers=new).json()
    assert (me["role"], me["department"]) == ("department", "aic")


def test_set_role_to_a_role_without_a_department_drops_department_and_office(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "promoted", Role.department, "quality", office="quality-140100")
    done = _cli("users", "set-role", "--username", "promoted", "--role", "supervisor")
    assert done.returncode == 0, done.stderr
    user = _user("promoted")
    assert (user.role, user.department_id, user.office_id) == (Role.supervisor, None, None)
    me = client.get("/api/v1/auth/me", headers=bearer(client, "promoted")).json()
    assert (me["role"], me["department"]) == ("supervisor", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set-role", "--username", "nobody", "--role", "admin"], "no account 'nobody'"),
        (["set-password", "--username", "nobody", "--password", NEW_PASSWORD],
         "no account 'nobody'"),
        (["set-role", "--username", "stays", "--role", "department", "--department", "nope"],
         "no active department with code 'nope'"),
        (["set-role", "--username", "stays", "--role", "department"], "needs --department"),
        (["set-role", "--username", "stays", "--role", "operator", "--department", "aic"],
         "role operator does not belong to a department"),
        (["set-role", "--username", "stays", "--role", "department", "--department", "aic",
          "--office", "quality-140100"],
         "no active office 'quality-140100' in department 'aic'"),
        (["set-password", "--username", "stays", "--password", "short"], "at least 10"),
        (["set-password", "--username", "stays", "--password", " abc  def ghi "],
         "not counting spaces"),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_line_and_changes_nothing(
    client: TestClient, session: Session, args: list[str], message: str
) -> None:
    add_staff(session, "stays", Role.department, "quality")
    headers = bearer(client, "stays")
    page_sign_in(client, "stays")
    before = _user("stays")

    bad = _cli("users", *args)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("error: ")
    assert bad.stderr.count("\n") == 1  # one line, no traceback
    assert message in bad.stderr

    after = _user("stays")
    assert after.model_dump() == before.model_dump()
    assert client.get("/api/v1/queue", headers=headers).status_code == 200
    assert client.get("/staff/desk", follow_redirects=False).status_code == 200


def test_every_account_change_from_the_command_line_is_on_the_audit_trail(
    client: TestClient,
) -> None:
    """Who created, reset, moved, disabled and enabled an account, and when: the operating-
    system user who ran the command, as no staff account stands behind a command line."""
    from schemas.casework import AuditEntry

    steps = [
        ("create", "--username", "audited", "--password", PASSWORD, "--role", "operator"),
        ("set-password", "--username", "audited", "--password", NEW_PASSWORD),
        ("set-role", "--username", "audited", "--role", "supervisor"),
        ("disable", "--username", "audited"),
        ("enable", "--username", "audited"),
    ]
    for step in steps:
        done = _cli("users", *step)
        assert done.returncode == 0, done.stderr
    assert _cli("users", "disable", "--username", "nobody").returncode == 2  # no row for that
    with Session(get_engine(read_only=True)) as db:
        entries = db.exec(
            select(AuditEntry).where(col(AuditEntry.action).startswith("account:"))
        ).all()
    assert [e.action for e in entries] == [
        "account:create",
        "account:set_password",
        "account:set_role",
        "account:disable",
        "account:enable",
    ]
    assert {e.detail["account"] for e in entries} == {"audited"}
    assert all(e.username.startswith("cli:") and e.staff_id is None for e in entries)
    assert entries[2].detail["role"] == "supervisor"
    assert all(PASSWORD not in str(e.detail) and NEW_PASSWORD not in str(e.detail) for e in entries)
    # Supervisors read them on the audit trail, by who ran the commands.
    with Session(get_engine()) as db:
        add_staff(db, "watcher", Role.supervisor)
    read = client.get(
        "/api/v1/audit",
        params={"username": entries[0].username},
        headers=bearer(client, "watcher"),
    )
    assert read.status_code == 200, read.text
    assert [e["action"] for e in read.json()][::-1] == [e.action for e in entries]


def test_a_token_from_before_a_disable_stays_refused_after_enable(
    client: TestClient, session: Session
) -> None:
    """Disabling shuts out a stolen or leaked token; enabling the account again must not bring
    it back, nor a page session started before (those rows are already gone)."""
    add_staff(session, "returning", Role.department, "quality")
    old = bearer(client, "returning")
    assert _cli("users", "disable", "--username", "returning").returncode == 0
    assert client.get("/api/v1/queue", headers=old).status_code == 401
    assert _cli("users", "enable", "--username", "returning").returncode == 0

    _refused(client.get("/api/v1/queue", headers=old))
    assert client.get("/api/v1/queue", headers=bearer(client, "returning")).status_code == 200


def _bump_version_only(username: str) -> None:
    """The account's credentials version raised and nothing else: its page sessions are left
    in place, as a sign-in racing the change leaves its row."""
    from sqlalchemy import update

    with Session(get_engine()) as db:
        db.execute(
            update(StaffUser)
            .where(col(StaffUser.username) == username)
            .values(token_epoch=StaffUser.token_epoch + 1)
        )
        db.commit()


def test_a_page_session_from_an_older_credentials_version_is_refused(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "versioned", Role.department, "quality")
    page_sign_in(client, "versioned")
    assert client.get("/staff/desk", follow_redirects=False).status_code == 200
    assert [s.token_epoch for s in _sessions_of("versioned")] == [0]

    _bump_version_only("versioned")

    assert _sessions_of("versioned") != []  # the row is there; its version is not current
    assert client.get("/staff/desk", follow_redirects=False).status_code in (302, 303)
    page_sign_in(client, "versioned")  # a new sign-in is under the new version
    assert client.get("/staff/desk", follow_redirects=False).status_code == 200
    assert sorted(s.token_epoch for s in _sessions_of("versioned")) == [0, 1]
