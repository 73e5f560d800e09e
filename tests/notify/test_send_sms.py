"""The SMS send job: budgets, retries on transient failures, and one record per message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, select

from core.db import get_engine
from notify.gateway import GatewayError
from notify.service import queue_sms
from notify.tasks import send_sms
from schemas import SmsOutbound
from tests.conftest import RunningGateway, Templates, copy_of_template
from workers.queues import SEND_SMS


def _queued(to: str = "+8613812345678") -> int:
    with Session(get_engine()) as session:
        message = queue_sms(session, to=to, template="too_short", params={})
        session.commit()
        assert message.id is not None
        return message.id


def _stored(message_id: int) -> SmsOutbound:
    with Session(get_engine(read_only=True)) as session:
        message = session.get(SmsOutbound, message_id)
        assert message is not None
        return message


@pytest.fixture
def sms_db(
    configure: Callable[..., None],
    sqlite_url: str,
    redis_url: str,
    templates: Templates,
    sms_gateway: RunningGateway,
) -> Callable[..., None]:
    def _setup(**settings: str) -> None:
        configure(
            database_url=sqlite_url,
            redis_url=redis_url,
            **{"sms_provider": "loopback", "sms_gateway_url": sms_gateway.url, **settings},
        )

    copy_of_template(templates, sqlite_url)
    _setup()
    return _setup


def test_a_message_is_sent_once_and_recorded(
    sms_db: Callable[..., None], sms_gateway: RunningGateway
) -> None:
    message_id = _queued()
    assert send_sms(message_id) == "sent"
    assert send_sms(message_id) == "nothing to do"  # a retried job sends nothing twice
    stored = _stored(message_id)
    assert (stored.state, stored.provider, stored.attempts) == ("sent", "loopback", 1)
    assert stored.provider_message_id
    assert [m["to"] for m in sms_gateway.inbox.all()] == ["+8613812345678"]


def test_the_per_number_budget_stops_the_fourth_message(
    sms_db: Callable[..., None], sms_gateway: RunningGateway
) -> None:
    sms_db(sms_daily_budget_per_number="3")
    results = [send_sms(_queued()) for _ in range(4)]
    assert results == ["sent", "sent", "sent", "over_budget"]
    assert send_sms(_queued("+8613900001111")) == "sent"  # another number has its own budget
    assert len(sms_gateway.inbox.all()) == 4


def test_the_global_budget_stops_everyone(
    sms_db: Callable[..., None], sms_gateway: RunningGateway
) -> None:
    sms_db(sms_daily_budget_global="2")
    numbers = ["+8613800000001", "+8613800000002", "+8613800000003"]
    assert [send_sms(_queued(n)) for n in numbers] == ["sent", "sent", "over_budget"]


def test_an_unreachable_gateway_is_retried_then_given_up(sms_db: Callable[..., None]) -> None:
    sms_db(sms_gateway_url="http://127.0.0.1:9")
    message_id = _queued()
    for attempt in range(1, len(SEND_SMS.retry) + 1):
        with pytest.raises(GatewayError):
            send_sms(message_id)  # RQ schedules the next try after the job's backoff
        stored = _stored(message_id)
        assert (stored.state, stored.attempts) == ("queued", attempt)
        assert "ConnectError" in (stored.last_error or "")
    assert send_sms(message_id) == "failed"
    assert _stored(message_id).state == "failed"


def test_a_refused_message_is_not_retried(
    sms_db: Callable[..., None], sms_gateway: RunningGateway
) -> None:
    sms_db(sms_gateway_url=sms_gateway.url + "/no-such-path")
    message_id = _queued()
    assert send_sms(message_id) == "failed"
    stored = _stored(message_id)
    assert stored.attempts == 1
    assert "refused" in (stored.last_error or "")


def test_unknown_templates_are_refused() -> None:
    from core.errors import InvalidInput
    from notify.templates import render

    with pytest.raises(InvalidInput, match="needs"):
        render("filed", {"kind": "投诉"})
    with pytest.raises(InvalidInput):
        render("no-such-template", {})


def test_the_number_never_reaches_the_logs(
    sms_db: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    send_sms(_queued())
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text
    with Session(get_engine(read_only=True)) as session:
        assert session.exec(select(SmsOutbound)).one().to_number == "+8613812345678"


def _quoting_gateway() -> FastAPI:
    """A gateway that refuses every message, quoting it back as Twilio's 4xx answers do."""
    app = FastAPI()

    @app.post("/messages")
    async def refuse(request: Request) -> JSONResponse:
        sent = await request.json()
        said = f"The 'To' number {sent['to']} is not a valid phone number: {sent['text']}"
        return JSONResponse({"code": 21211, "message": said}, status_code=400)

    return app


def test_a_refusal_quoting_a_sealed_number_and_text_keeps_neither(
    sms_db: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway's 4xx often quotes what it was sent (Twilio 21211: "The 'To' number … is not
    a valid phone number."). A sealed message's number and text (a reporter's, a citizen's
    sign-in code) are erased once it is done with: its error must not keep them instead."""
    from tests.helpers import serving

    with serving(_quoting_gateway()) as url:
        sms_db(sms_gateway_url=url)
        message_id = _sealed_code()
        caplog.set_level("INFO")
        assert send_sms(message_id) == "failed"
    stored = _stored(message_id)
    assert stored.sealed_ciphertext is None  # erased, as a sent one is
    assert "400" in (stored.last_error or "")  # what went wrong is still said
    for secret in ("13812345678", "493817"):
        assert secret not in (stored.last_error or "")
        assert secret not in caplog.text


def test_sign_in_codes_cannot_spend_the_texts_a_numbers_filings_are_owed(
    sms_db: Callable[..., None], sms_gateway: RunningGateway
) -> None:
    """Anyone may ask for sign-in codes for any number (POST /api/v1/citizen/code, 5 an
    hour): counted in the number's daily budget, ten codes asked for by a stranger left
    the texts its filings are owed (a closing, a staff question) unsent for the day. Codes
    have a budget of their own, as large, and the overall one stays shared."""

    sms_db(sms_daily_budget_per_number="3")

    assert [send_sms(_sealed_code()) for _ in range(4)] == ["sent"] * 3 + ["over_budget"]
    assert [send_sms(_queued()) for _ in range(4)] == ["sent"] * 3 + ["over_budget"]
    sms_db(sms_daily_budget_per_number="3", sms_daily_budget_global="6")
    assert send_sms(_queued("+8613900001111")) == "over_budget"  # six sent, codes included


def _sealed_code() -> int:
    """A citizen's sign-in code queued sealed, as citizens.service queues it; its id."""
    from notify.service import queue_sealed_sms
    from rewards.keys import keyring

    with Session(get_engine()) as session:
        message = queue_sealed_sms(
            session,
            ring=keyring(),
            to="+8613812345678",
            template="citizen_code",
            params={"code": "493817", "minutes": "5"},
        )
        session.commit()
        assert message.id is not None
        return message.id
