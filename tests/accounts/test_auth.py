import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from schemas import StaffUser
from schemas.enums import Role
from tests.helpers import PASSWORD, add_staff, bearer, form_token, run_cli

pytestmark = pytest.mark.usefixtures("sqlite_platform")


def test_password_form_gives_a_bearer_token(client: TestClient, session: Session) -> None:
    add_staff(session, "op1", Role.operator)
    answer = client.post("/api/v1/auth/token", data={"username": "op1", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "id": me.json()["id"],
        "username": "op1",
        "role": "operator",
        "department": None,
    }


def test_passwords_are_stored_as_argon2_hashes(session: Session) -> None:
    add_staff(session, "op2", Role.operator)
    user = session.exec(select(StaffUser).where(StaffUser.username == "op2")).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    ("username", "password"), [("op3", "wrong-password"), ("nobody", PASSWORD)]
)
def test_wrong_credentials_are_401_without_saying_which_part(
    client: TestClient, session: Session, username: str, password: str
) -> None:
    add_staff(session, "op3", Role.operator)
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "wrong username or password"


@pytest.mark.parametrize(
    "header", [None, "Bearer not-a-token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Basic abc"]
)
def test_staff_routes_need_a_valid_token(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = client.get("/api/v1/queue", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "NotAuthenticated"


def test_a_disabled_account_loses_its_token(client: TestClient, session: Session) -> None:
    add_staff(session, "gone", Role.supervisor)
    headers = bearer(client, "gone")
    user = session.exec(select(StaffUser).where(StaffUser.username == "gone")).one()
    user.active = False
    session.add(user)
    session.commit()
    assert client.get("/api/v1/queue", headers=headers).status_code == 401


def test_operators_have_no_queue(client: TestClient, session: Session) -> None:
    add_staff(session, "op4", Role.operator)
    answer = client.get("/api/v1/queue", headers=bearer(client, "op4"))
    assert answer.status_code == 403
    assert answer.json()["error"] == "PermissionDenied"


def test_department_user_cannot_ask_for_another_queue(client: TestClient, session: Session) -> None:
    add_staff(session, "zj", Role.department, "quality")
    answer = client.get(
        "/api/v1/queue", params={"department": "housing"}, headers=bearer(client, "zj")
    )
    assert answer.status_code == 404


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args], capture_output=True, text=True, timeout=60
    )


def test_users_create_command(session: Session) -> None:
    ok = _cli(
        "users",
        "create",
        "--username",
        "cli1",
        "--password",
        PASSWORD,
        "--role",
        "department",
        "--department",
        "quality",
    )
    assert ok.returncode == 0, ok.stderr
    assert "created department cli1 of quality" in ok.stdout
    user = session.exec(select(StaffUser).where(StaffUser.username == "cli1")).one()
    assert user.role is Role.department
    # Made by the real command, not this test process (whose hashing is cheap, see conftest):
    # argon2-cffi's RFC 9106 low-memory profile, Argon2id with 64 MiB, 3 passes, 4 lanes.
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "department"], "needs --department"),
        (["--role", "department", "--department", "nope"], "no active department"),
        (["--role", "operator", "--department", "quality"], "does not belong to a department"),
        (["--role", "wizard"], "Invalid value"),
    ],
)
def test_users_create_refuses_bad_input(session: Session, args: list[str], message: str) -> None:
    bad = _cli("users", "create", "--username", "cli2", "--password", PASSWORD, *args)
    assert bad.returncode != 0
    assert message in bad.stderr
    assert session.exec(select(StaffUser).where(StaffUser.username == "cli2")).first() is None


def test_users_create_refuses_a_short_password_and_a_taken_name(session: Session) -> None:
    assert (
        "at least 10"
        in _cli(
            "users", "create", "--username", "cli3", "--password", "short", "--role", "admin"
        ).stderr
    )
    add_staff(session, "cli4", Role.admin)
    taken = _cli("users", "create", "--username", "cli4", "--password", PASSWORD, "--role", "admin")
    assert taken.returncode == 2
    assert "taken" in taken.stderr
    # Ten characters of which most are spaces are not a password of ten.
    spaces = _cli(
        "users", "create", "--username", "cli3", "--password", " abc  def ghi ", "--role", "admin"
    )
    assert spaces.returncode == 2
    assert "not counting spaces" in spaces.stderr
    assert session.exec(select(StaffUser).where(StaffUser.username == "cli3")).first() is None


def test_users_create_asks_for_the_password_when_it_is_left_off_the_command_line(
    session: Session,
) -> None:
    from core.security import verify_password

    def create(username: str, typed: list[str]) -> subprocess.CompletedProcess[str]:
        command = ["users", "create", "--username", username, "--role", "admin"]
        return run_cli(*command, typed="".join(f"{line}\n" for line in typed))

    asked = create("cli6", [PASSWORD, PASSWORD])
    assert asked.returncode == 0, asked.stderr
    assert PASSWORD not in asked.stdout  # not echoed
    user = session.exec(select(StaffUser).where(StaffUser.username == "cli6")).one()
    assert verify_password(user.password_hash, PASSWORD)
    # Asked again until the two agree.
    mismatch = create("cli7", [PASSWORD, "another-password", PASSWORD, PASSWORD])
    assert mismatch.returncode == 0, mismatch.stderr
    assert "do not match" in mismatch.stdout + mismatch.stderr


@pytest.fixture
def fixed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 s into a 900 s window, all test long: no window ends halfway through a test."""
    from types import SimpleNamespace

    from intake import limits

    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: 1_800_000_000 + 100))


def _sign_in(client: TestClient, username: str, password: str) -> int:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return answer.status_code


@pytest.mark.usefixtures("fixed_window")
def test_failed_sign_ins_lock_the_account_for_a_while_and_right_ones_do_not_count(
    client: TestClient, session: Session
) -> None:
    add_staff(session, "ann", Role.reward_officer)
    add_staff(session, "bob", Role.operator)
    assert [_sign_in(client, "ann", PASSWORD) for _ in range(12)] == [200] * 12
    assert [_sign_in(client, "ann", f"guess-{i:06d}") for i in range(10)] == [401] * 10
    locked = client.post("/api/v1/auth/token", data={"username": "ann", "password": PASSWORD})
    assert locked.status_code == 429, locked.text  # even the right password, for now
    assert locked.headers["Retry-After"] == "800"  # until the window ends
    assert "failed sign-ins to this account" in locked.json()["detail"]
    assert _sign_in(client, "bob", PASSWORD) == 200  # the same address, another account
    assert _sign_in(client, "nobody", "guess") == 401  # an unknown name is counted alike


@pytest.mark.usefixtures("fixed_window")
def test_failed_sign_ins_from_one_address_are_limited_across_accounts(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import get_settings

    monkeypatch.setattr(get_settings(), "signin_max_tries_per_address", 5)
    add_staff(session, "ann", Role.operator)
    tries = [_sign_in(client, f"user{i}", "guess-password") for i in range(6)]
    assert tries == [401] * 5 + [429]
    assert _sign_in(client, "ann", PASSWORD) == 429


@pytest.mark.usefixtures("fixed_window")
def test_the_sign_in_page_says_when_to_try_again(client: TestClient, session: Session) -> None:
    add_staff(session, "ann", Role.department, "quality")
    page = client.get("/staff/login").text
    token = form_token(page)
    form = {"username": "ann", "password": "guess-password", "csrf_token": token}
    statuses = [client.post("/staff/login", data=form).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    refused = client.post("/staff/login", data=form | {"password": PASSWORD})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "800"
    assert "登录失败次数过多，请 14 分钟后再试。" in refused.text


def test_users_disable_shuts_out_the_token_and_the_page_session_and_enable_lets_back_in(
    client: TestClient, session: Session
) -> None:
    """A member of staff who leaves is shut out by a command, not by editing the database:
    the bearer token and the signed-in page stop working at once, and the session rows go."""
    from schemas.staff import StaffSession
    from tests.helpers import sign_in_page as page_sign_in

    add_staff(session, "leaver", Role.department, "quality")
    headers = bearer(client, "leaver")
    page_sign_in(client, "leaver")
    assert client.get("/staff/desk", follow_redirects=False).status_code == 200
    done = _cli("users", "disable", "--username", "leaver")
    assert done.returncode == 0, done.stderr
    assert "disabled leaver" in done.stdout
    assert client.get("/api/v1/queue", headers=headers).status_code == 401
    assert client.get("/staff/desk", follow_redirects=False).status_code in (302, 303)
    user = session.exec(select(StaffUser).where(StaffUser.username == "leaver")).one()
    assert session.exec(select(StaffSession).where(StaffSession.staff_id == user.id)).all() == []
    refused = client.post("/api/v1/auth/token", data={"username": "leaver", "password": PASSWORD})
    assert refused.status_code == 401
    assert _cli("users", "enable", "--username", "leaver").returncode == 0
    assert client.get("/api/v1/queue", headers=bearer(client, "leaver")).status_code == 200


def test_users_disable_names_an_unknown_account() -> None:
    unknown = _cli("users", "disable", "--username", "nobody")
    assert unknown.returncode == 2
    assert "error: no account 'nobody'" in unknown.stderr


def test_users_create_refuses_an_office_the_registry_no_longer_has(session: Session) -> None:
    """An account tied to a removed office would see only that old office's filings and
    none routed since: the command says the office is gone instead of making it."""
    from routing.repository import office_by_code

    office = office_by_code(session, "quality-140105")
    assert office is not None
    office.active = False  # as a registry without county offices leaves it
    session.add(office)
    session.commit()
    args = ("--role", "department", "--department", "quality", "--office", "quality-140105")
    bad = _cli("users", "create", "--username", "cli5", "--password", PASSWORD, *args)
    assert bad.returncode == 2
    assert "error: no active office 'quality-140105' in department 'quality'" in bad.stderr
    assert session.exec(select(StaffUser).where(StaffUser.username == "cli5")).first() is None
