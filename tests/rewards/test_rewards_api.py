"""The reward desk over HTTP: reward officers only, 201 per step, one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.service import Staff
from core.db import get_engine
from rewards.api import router
from rewards.states import today
from schemas.casework import AuditEntry
from schemas.enums import Role
from schemas.staff import StaffUser
from tests.helpers import add_staff, bearer
from tests.rewards.test_workflow import tip_off

ELIGIBLE = {
    "natural_person": True,
    "regulator_staff_or_duty_to_report": False,
    "harmed_party_or_agent": False,
    "paid_to_report": False,
    "information_already_known": False,
}


@pytest.fixture
def api(platform: str) -> Iterator[TestClient]:
    from service.app import create_app

    app = create_app()
    if not any(getattr(r, "path", "").startswith(router.prefix) for r in app.routes):
        app.include_router(router)  # until service/app.py includes it
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tip(api: TestClient) -> int:
    """A decided anonymous tip-off (the real vault: no one to text) and the desk's staff."""
    with Session(get_engine(), expire_on_commit=False) as db:
        for name, role, department in (
            ("ann", Role.reward_officer, None),
            ("bob", Role.reward_officer, None),
            ("boss", Role.supervisor, None),
            ("zj", Role.department, "quality"),
        ):
            add_staff(db, name, role, department)
        user = db.exec(select(StaffUser).where(StaffUser.username == "boss")).one()
        assert user.id is not None
        boss = Staff(user.id, "boss", Role.supervisor, None, None)
        return tip_off(db, boss, fines_yuan=12_000_000)


def _ok(answer: Any, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_whole_reward_over_http(api: TestClient, tip: int) -> None:
    ann, bob = bearer(api, "ann"), bearer(api, "bob")
    listed = _ok(api.get("/api/v1/rewards?state=none", headers=ann), 200)
    assert [(i["complaint_id"], i["penalty_yuan"]) for i in listed["data"]] == [
        (tip, "12,000,000.00元")
    ]
    opened = _ok(
        api.post(
            "/api/v1/rewards",
            json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1"},
            headers=ann,
        )
    )
    rid, current = opened["id"], opened["current_amount"]
    assert (opened["state"], current["amount_fen"], current["amount_yuan"]) == (
        "proposed",
        60_000_000,
        "600,000.00元",
    )
    assert current["needs_finance_signoff"] is True
    again = api.post(
        "/api/v1/rewards",
        json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "2"},
        headers=bob,
    )
    assert again.status_code == 409
    assert again.json()["error"] == "Conflict"

    superseded = _ok(
        api.post(
            f"/api/v1/rewards/{rid}/amounts",
            json={"tier": "2", "reason": "复核为二级"},
            headers=bob,
        )
    )
    aid = superseded["current_amount"]["id"]
    assert superseded["current_amount"]["amount_yuan"] == "360,000.00元"
    assert superseded["amounts"][0]["supersede_reason"] == "复核为二级"

    _ok(api.post(f"/api/v1/rewards/{rid}/approvals", json={"amount_id": aid}, headers=ann))
    twice = api.post(f"/api/v1/rewards/{rid}/approvals", json={"amount_id": aid}, headers=ann)
    assert twice.status_code == 409
    assert "already approved" in twice.json()["detail"]
    approved = _ok(
        api.post(
            f"/api/v1/rewards/{rid}/approvals",
            json={"amount_id": aid, "note": "同意"},
            headers=bob,
        )
    )
    assert (approved["state"], approved["approvals_needed"]) == ("approved", 0)

    payment = {
        "amount_id": aid,
        "method": "bank_transfer",
        "reference": "回单0001",
        "paid_on": today().isoformat(),
    }
    paid = _ok(api.post(f"/api/v1/rewards/{rid}/payment", json=payment, headers=ann))
    assert paid["state"] == "paid"
    assert paid["payment"]["amount_yuan"] == "360,000.00元"
    assert [e["action"] for e in paid["events"]][-2:] == ["paid", "reporter_notified"]
    assert _ok(api.get(f"/api/v1/rewards/{rid}", headers=bob), 200)["version"] == paid["version"]
    with Session(get_engine(read_only=True)) as db:
        actions = [e.action for e in db.exec(select(AuditEntry)).all()]
    assert {"reward:open", "reward:approve", "reward:payment", "reward:view"} <= set(actions)


def test_other_roles_get_403_and_bad_bodies_422(api: TestClient, tip: int) -> None:
    for username in ("boss", "zj"):
        headers = bearer(api, username)
        assert api.get("/api/v1/rewards", headers=headers).status_code == 403
        denied = api.post(
            "/api/v1/rewards",
            json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1"},
            headers=headers,
        )
        assert (denied.status_code, denied.json()["error"]) == (403, "PermissionDenied")
    assert api.get("/api/v1/rewards").status_code == 401
    ann = bearer(api, "ann")
    extra = api.post(
        "/api/v1/rewards",
        json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1", "amount_fen": 1},
        headers=ann,
    )
    assert extra.status_code == 422
    rid = _ok(
        api.post(
            "/api/v1/rewards",
            json={"complaint_id": tip, "reporter": ELIGIBLE, "tier": "1"},
            headers=ann,
        )
    )["id"]
    nothing = api.post(f"/api/v1/rewards/{rid}/amounts", json={"reason": "无"}, headers=ann)
    assert nothing.status_code == 422
    too_big = api.post(
        f"/api/v1/rewards/{rid}/amounts",
        json={"reason": "更正", "fines_fen": 10**13 + 1},
        headers=ann,
    )
    assert too_big.status_code == 422
    unpaid = api.post(
        f"/api/v1/rewards/{rid}/payment",
        json={"amount_id": 1, "method": "cash", "reference": "x", "paid_on": "2026-01-01"},
        headers=ann,
    )
    assert unpaid.status_code == 409
    assert api.get("/api/v1/rewards/999999", headers=ann).status_code == 404
