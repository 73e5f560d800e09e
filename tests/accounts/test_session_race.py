"""A page sign-in racing a change of the account's credentials: the password checked under
the old version, the session written after the change deleted the account's sessions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import get_engine
from schemas.enums import Role
from schemas.staff import StaffUser
from tests.accounts.test_credentials import NEW_PASSWORD, _sessions_of, _user
from tests.helpers import add_staff
from tests.helpers import sign_in_page as page_sign_in


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("change", ["set-password", "disable"])
def test_a_page_sign_in_racing_a_credentials_change_does_not_outlive_it(
    platform: str, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The password is checked, then the administrator's change commits (the account's
    sessions deleted, none of them this one yet), then the sign-in writes its session.
    PostgreSQL only: on SQLite the sign-in holds the write lock from its first read, so the
    change waits for it and then deletes its row."""
    from accounts import service
    from service.app import create_app
    from web import staff as staff_pages

    with Session(get_engine()) as db:
        add_staff(db, "raced", Role.department, "quality")
        if change == "disable":  # enabled again after the race: the session must stay refused
            add_staff(db, "root", Role.admin)

    def change_after_the_check(session: Session, **kwargs: Any) -> StaffUser:
        user = service.authenticate(session, **kwargs)
        with Session(get_engine()) as other:
            if change == "set-password":
                service.set_password(other, username="raced", password=NEW_PASSWORD)
            else:
                service.set_active(other, username="raced", active=False)
                other.commit()
                service.set_active(other, username="raced", active=True)
            other.commit()
        return user

    monkeypatch.setattr(staff_pages, "authenticate", change_after_the_check)
    with TestClient(create_app()) as client:
        page_sign_in(client, "raced")  # answered 303 with the session's cookie
        assert [s.token_epoch for s in _sessions_of("raced")] == [0]  # written after the delete
        assert _user("raced").token_epoch == 1
        assert client.get("/staff/desk", follow_redirects=False).status_code in (302, 303)
