"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS) in tests/service/test_api_schema.py.

Teaches it the named string formats of schemas/formats.py, so that the requests it
generates as valid are valid: numbers on the numbering plan, codes with their check digit.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from schemas.complaint import PURCHASE_DAY_PATTERN, purchase_day_problem
from schemas.validators import gtin_problem, id_number_problem, normalize_cn_phone, uscc_problem

_ATTACHMENT_ID = re.compile(r"[0-9a-f]{32}")

schemathesis.openapi.format(
    "cn-phone", st.from_regex(r"\A1(3[0-9]|5[0-35-9]|8[0-9])[0-9]{8}\Z", fullmatch=True)
)
schemathesis.openapi.format(
    "cn-uscc",
    st.sampled_from(["91330100799655058B", "91110000100000589A", "91440300708461136T"]),
)
schemathesis.openapi.format(
    "cn-id-number", st.sampled_from(["110105199001011232", "11010519491231002X"])
)
schemathesis.openapi.format(
    "gtin", st.sampled_from(["96385074", "036000291452", "6901234567892", "10012345678902"])
)


def _phone_problem(raw: str) -> str | None:
    try:
        normalize_cn_phone(raw)
    except ValueError as exc:
        return str(exc)
    return None


def _future_purchase(raw: str) -> str | None:
    """A purchase day the schema admits (a real day, 1990–2099) but the validator refuses as
    still to come: no schema knows today. Anything the schema refuses stays, to be refused."""
    if not re.fullmatch(PURCHASE_DAY_PATTERN.strip("^$"), raw):
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None
    return purchase_day_problem(day)


# Body fields with a named format: the check the platform applies, and a value it accepts.
_FORMATTED: dict[str, tuple[Any, str]] = {
    "contact_phone": (_phone_problem, "13812345678"),
    "caller_phone": (_phone_problem, "13812345678"),
    "phone": (_phone_problem, "13812345678"),
    "business_uscc": (uscc_problem, "91330100799655058B"),
    "id_number": (id_number_problem, "110105199001011232"),
    "gtin": (gtin_problem, "6901234567892"),
    "purchased_on": (_future_purchase, "2026-03-01"),
}


def _formats_kept(body: dict[str, Any]) -> None:
    """Schemathesis judges a mutated value valid when its format is one it does not know
    (its schema validator passes any string for `cn-uscc`), then expects it accepted: a
    value the format's own check refuses is put right, here and one level down."""
    for name, value in list(body.items()):
        if isinstance(value, dict):
            _formats_kept(value)
        elif name in _FORMATTED and isinstance(value, str):
            problem, good = _FORMATTED[name]
            if problem(value) is not None:
                body[name] = good


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    """A client keeps an Idempotency-Key for retries of one request, never for another body
    (reusing it so is refused with 422, as the header's specification asks)."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if isinstance(case.body, dict):
        _formats_kept(case.body)
    # Attachment ids come from earlier uploads, which a generated request cannot know: ids
    # of the right shape that no upload returned are left out (wrong shapes stay, to be
    # refused as they should).
    body = case.body
    filings = ("/api/v1/complaints", "/api/v1/quality-supervision/filings")
    if case.path in filings and isinstance(body, dict):
        ids = body.get("attachments")
        if isinstance(ids, list) and all(_ATTACHMENT_ID.fullmatch(str(i)) for i in ids):
            body["attachments"] = []
    # A tip-off takes one phone number: contact_phone and reporter.phone, when both are
    # given, must be the same (refused with 422 saying so; the vault seals one number per
    # reporter). A rule between two fields, which a JSON schema cannot state: a reporter
    # gives their own number twice, so a generated one does.
    if case.path == "/api/v1/complaints" and isinstance(body, dict) and body.get("kind") == "tip":
        reporter = body.get("reporter")
        phone = body.get("contact_phone")
        if isinstance(reporter, dict) and reporter.get("phone") and phone:
            reporter["phone"] = phone
    # Open311's start_date must not be after end_date (refused with 422 saying so): a rule
    # between two parameters, which a JSON schema cannot state. A client keeps its window the
    # right way round, so a generated one is; every other refusal of a valid query still fails.
    query = case.query
    lists = ("/open311/v2/requests", "/open311/v2/requests.{fmt}")
    if (
        case.path in lists
        and isinstance(query, dict)
        and _inverted(query.get("start_date"), query.get("end_date"))
    ):
        query["start_date"], query["end_date"] = query["end_date"], query["start_date"]
    # The same rule for the statistics' and the open-data export's period (since, until).
    periods = ("/api/v1/stats", "/api/v1/stats.csv", "/api/v1/open-data/complaints")
    if (
        case.path in periods
        and isinstance(query, dict)
        and _inverted(query.get("since"), query.get("until"))
    ):
        query["since"], query["until"] = query["until"], query["since"]


def _inverted(start: Any, end: Any) -> bool:
    try:
        return datetime.fromisoformat(start) > datetime.fromisoformat(end)
    except (TypeError, ValueError, OverflowError):  # absent, not a date-time, out of range
        return False
