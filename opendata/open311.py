"""Open311 GeoReport v2 over the platform: the registry's sectors are the services, public
complaint views are the requests, and a keyed client system may file a complaint.

What a request shows is the public tracking view's, scrubbed like the open-data export: no
tracking number (it would let anyone rate the filing), no contact, the county not the
address. Tip-offs and inquiries are not requests: an id of one answers exactly like an id
that does not exist. A request's `service_request_id` is the complaint's public id
(opendata.public_ids), never its database id; a database id asked for is an unknown id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from cases.lifecycle import Actor
from core.errors import InvalidInput, NotFound
from core.timeutil import CHINA, as_china, day_start, utcnow
from intake import service as intake
from intake.tracking_number import display_tracking_number
from opendata.export import public_text, split_from_calls
from opendata.public_ids import public_id, row_id
from opendata.scrub import scrub
from routing.repository import active_departments, latest_registry_load
from schemas.complaint import Complaint, ComplaintCreate, name_required
from schemas.enums import FINAL_STATUSES, Channel, Kind
from schemas.event import ComplaintEvent
from schemas.office import Office
from schemas.open311 import Open311Key

DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
# A request's fields beyond GeoReport's own, posted as attribute[code]: each code is the
# field of ComplaintCreate it fills, validated as the JSON API validates it.
ATTRIBUTES = [
    ("business_name", "被投诉经营者名称", True),
    ("business_uscc", "经营者统一社会信用代码（18位）", False),
    ("business_address", "经营者地址", False),
    ("complainant_name", "投诉人姓名", False),
    ("complainant_address", "投诉人地址", False),
    ("demand", "诉求（如退货退款、赔偿）", False),
    ("purchased_on", "购买日期（YYYY-MM-DD）", False),
    ("order_number", "订单号", False),
]
_ATTRIBUTE_NAMES = re.compile(r"\b(" + "|".join(name for name, _, _ in ATTRIBUTES) + r")\b")


def _sectors(session: Session) -> dict[str, str]:
    load = latest_registry_load(session)
    return {str(k): str(v) for k, v in (load.sectors if load else {}).items()}


def _owners(session: Session) -> dict[str, str]:
    """sector → the code of the first active department answering for it."""
    owner: dict[str, str] = {}
    for department in active_departments(session):
        for sector in department.sectors:
            owner.setdefault(sector, department.code)
    return owner


def services(session: Session) -> list[dict[str, Any]]:
    """Every sector an active department answers for, named with that department."""
    names = _sectors(session)
    departments = {d.code: d.name for d in active_departments(session)}
    owner = {sector: departments[code] for sector, code in _owners(session).items()}
    return [
        {
            "service_code": code,
            "service_name": label,
            "description": f"{label}方面的消费投诉，由{owner[code]}处理",
            "metadata": True,
            "type": "realtime",
            "keywords": label,
            "group": owner[code],
        }
        for code, label in names.items()
        if code in owner
    ]


def service_definition(session: Session, code: str) -> dict[str, Any]:
    if code not in {s["service_code"] for s in services(session)}:
        raise NotFound(f"no service {code!r}")
    name_needed = name_required(Kind.complaint)  # while the policy asks for a real name
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": name,
                "datatype": "string",
                "required": required or (name == "complainant_name" and name_needed),
                "datatype_description": label,
                "order": order,
                "description": label,
            }
            for order, (name, label, required) in enumerate(ATTRIBUTES, start=1)
        ],
    }


def _w3c(moment: datetime | None) -> str | None:
    """The China day of `moment`, as its midnight: open data gives days, not times (a
    filing's exact moment beside its county and business narrows down who filed it)."""
    if moment is None:
        return None
    day = datetime.combine(as_china(moment).date(), time.min, tzinfo=CHINA)
    return day.isoformat(timespec="seconds")


def _first_published_after(moment: datetime) -> datetime | None:
    """The earliest filing time whose published day (its China midnight) is at or after
    `moment`: the date filters compare what is published, so they cannot find the time
    inside a day either. None: no bound (the far ends of the calendar)."""
    try:
        midnight = day_start(moment)
        return midnight if midnight == moment else midnight + timedelta(days=1)
    except OverflowError:
        return None if moment.year == 1 else _LATEST


def _first_published_beyond(moment: datetime) -> datetime | None:
    """The earliest filing time whose published day is after `moment`. None: no bound."""
    try:
        return day_start(moment) + timedelta(days=1)
    except OverflowError:
        return None if moment.year > 1 else _EARLIEST


# RFC 3339 date-times (what the schema's `format: date-time` means): a time zone is required;
# `T` and `Z` may be lower case; a leap second (:60) is read as the second before it.
W3C_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
# A request id as asked for: letters and digits, bounded. Public ids are 32 hex digits; any
# other such string is an id that does not exist (404, or no match in a filter), like a
# database id, so that nothing tells a well-formed guess from a wrong one.
REQUEST_ID = r"[0-9A-Za-z]{1,64}"
REQUEST_IDS = rf"^{REQUEST_ID}( *, *{REQUEST_ID})*$"
SERVICE_CODES = r"^[a-z][a-z0-9_]{1,31}( *, *[a-z][a-z0-9_]{1,31})*$"
STATUSES = r"^(open|closed)( *, *(open|closed))*$"
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _parse_w3c(value: str, name: str) -> datetime:
    """An RFC 3339 date-time, in UTC; one beyond what UTC can hold (year 1 at +08:00) is
    the earliest or latest moment there is."""
    found = W3C_DATETIME.fullmatch(value)
    if found is None:
        raise InvalidInput(
            f"{name} must be a W3C (RFC 3339) datetime such as 2026-01-01T00:00:00Z or "
            "2026-01-01T08:00:00+08:00"
        )
    year, month, day, hour, minute, second = (int(part) for part in found.group(1, 2, 3, 4, 5, 6))
    fraction = int((found.group(7) or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if found.group(9):
        if int(found.group(10)) > 23 or int(found.group(11)) > 59:
            raise InvalidInput(f"{name}: the time zone offset is out of range")
        offset = timedelta(hours=int(found.group(10)), minutes=int(found.group(11)))
        if found.group(9) == "-":
            offset = -offset
    try:
        local = datetime(year, month, day, hour, minute, min(second, 59), fraction)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from exc
    if second > 60:
        raise InvalidInput(f"{name}: second must be in 0..59")
    try:
        return local.replace(tzinfo=timezone(offset)).astimezone(UTC)
    except OverflowError:
        return _EARLIEST if local.year == 1 else _LATEST


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str] | None = None  # as asked for: public ids, or strings that are none
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None

    @classmethod
    def parse(
        cls,
        *,
        service_request_id: str | None,
        service_code: str | None,
        start_date: str | None,
        end_date: str | None,
        status: str | None,
    ) -> RequestQuery:
        ids = None
        if service_request_id:
            if not re.fullmatch(REQUEST_IDS, service_request_id):
                raise InvalidInput("service_request_id: comma-separated request ids")
            ids = [p.strip() for p in service_request_id.split(",")]
        if status and not re.fullmatch(STATUSES, status):
            raise InvalidInput("status: open, closed or both")
        statuses = sorted({s.strip() for s in status.split(",")}) if status else None
        if service_code and not re.fullmatch(SERVICE_CODES, service_code):
            raise InvalidInput("service_code: comma-separated service codes")
        codes = [c.strip() for c in service_code.split(",")] if service_code else None
        start = _parse_w3c(start_date, "start_date") if start_date is not None else None
        end = _parse_w3c(end_date, "end_date") if end_date is not None else None
        if start and end and start > end:
            raise InvalidInput("start_date must not be after end_date")
        if ids is None and start is None and end is None:
            start = utcnow() - timedelta(days=DEFAULT_DAYS)
        return cls(ids=ids, service_codes=codes, start=start, end=end, statuses=statuses)


def requests(session: Session, *, query: RequestQuery) -> list[dict[str, Any]]:
    """Public complaint views, newest first, at most MAX_REQUESTS."""
    sql = select(Complaint).where(col(Complaint.kind) == Kind.complaint)
    if query.ids is not None:
        known = [i for i in map(row_id, query.ids) if i is not None]
        sql = sql.where(col(Complaint.id).in_(known))
    if query.service_codes:
        sql = sql.where(col(Complaint.sector).in_(query.service_codes))
    start = _first_published_after(query.start) if query.start else None
    end = _first_published_beyond(query.end) if query.end else None
    if start is not None:
        sql = sql.where(col(Complaint.created_at) >= start)
    if end is not None:
        sql = sql.where(col(Complaint.created_at) < end)
    if query.statuses == ["open"]:
        sql = sql.where(col(Complaint.status).not_in(list(FINAL_STATUSES)))
    elif query.statuses == ["closed"]:
        sql = sql.where(col(Complaint.status).in_(list(FINAL_STATUSES)))
    found = session.exec(sql.order_by(col(Complaint.id).desc()).limit(MAX_REQUESTS)).all()
    return views(session, found)


def request(session: Session, request_id: str) -> dict[str, Any]:
    """One public complaint view by its public id; anything else is an unknown id."""
    found = row_id(request_id)
    complaint = session.get(Complaint, found) if found is not None else None
    if complaint is None or complaint.kind is not Kind.complaint:
        raise NotFound(f"no request {request_id}")
    return views(session, [complaint])[0]


def _latest_notes(session: Session, ids: Sequence[int]) -> dict[int, str]:
    latest = (
        select(func.max(col(ComplaintEvent.id)))
        .where(col(ComplaintEvent.complaint_id).in_(ids))
        .where(col(ComplaintEvent.public))
        .where(col(ComplaintEvent.public_note).is_not(None))
        .group_by(col(ComplaintEvent.complaint_id))
    )
    rows = session.exec(
        select(ComplaintEvent.complaint_id, ComplaintEvent.public_note).where(
            col(ComplaintEvent.id).in_(latest)
        )
    ).all()
    return {int(cid): str(note) for cid, note in rows}


def views(session: Session, complaints: Sequence[Complaint]) -> list[dict[str, Any]]:
    names = _sectors(session)
    ids = [c.id for c in complaints if c.id is not None]
    notes = _latest_notes(session, ids) if ids else {}
    split = split_from_calls(session, ids)
    office_ids = {c.office_id for c in complaints if c.office_id}
    offices = {
        o.id: o.name
        for o in session.exec(select(Office).where(col(Office.id).in_(office_ids))).all()
    }
    departments = {d.id: d.name for d in active_departments(session) if not d.is_triage}
    found = []
    for c in complaints:
        assert c.id is not None
        place = "".join(
            p for p in (c.place_province, c.place_city, c.place_county) if p and p != "市辖区"
        )
        found.append(
            {
                "service_request_id": public_id(c.id),
                "status": "closed" if c.status in FINAL_STATUSES else "open",
                "status_notes": scrub(notes.get(c.id)) or None,
                "service_name": names.get(c.sector) if c.sector else None,
                "service_code": c.sector,
                "description": public_text(c, split) or "",
                "agency_responsible": offices.get(c.office_id) or departments.get(c.department_id),
                "service_notice": None,
                "requested_datetime": _w3c(c.created_at),
                "updated_datetime": _w3c(c.updated_at),
                "expected_datetime": c.deadline_due_on.isoformat() if c.deadline_due_on else None,
                "address": place or None,
                "address_id": c.place_code,
                "zipcode": None,
                "lat": None,
                "long": None,
                "media_url": None,
            }
        )
    return found


_HAN = re.compile(r"[\u3400-\u9fff\u00b7]+")


def _georeport_name(form: dict[str, str]) -> str:
    """The complainant's name from GeoReport's own `first_name` and `last_name`, for clients
    that send those rather than `attribute[complainant_name]`: a Chinese name family name
    first and unspaced (李 + 秀英 = 李秀英), any other given name first."""
    first = (form.get("first_name") or "").strip()
    last = (form.get("last_name") or "").strip()
    if _HAN.fullmatch(first + last):
        return last + first
    return " ".join(part for part in (first, last) if part)


def create_request(session: Session, *, key: Open311Key, form: dict[str, str]) -> dict[str, Any]:
    """File a complaint for a keyed client system (caller commits): the sector is the
    service code; the answer carries the tracking number in its service notice."""
    code = (form.get("service_code") or "").strip()
    owner = _owners(session).get(code)
    if owner is None:
        raise InvalidInput(f"service_code: no service {code!r}; see GET services")
    attributes = {name: (form.get(f"attribute[{name}]") or "").strip() for name, _, _ in ATTRIBUTES}
    if not attributes["complainant_name"]:
        attributes["complainant_name"] = _georeport_name(form)
    try:
        data = ComplaintCreate.model_validate(
            {
                "kind": Kind.complaint,
                "text": form.get("description") or "",
                "contact_phone": form.get("phone") or None,
                "region": (form.get("address_string") or "").strip()[:100] or None,
                **{name: value or None for name, value in attributes.items()},
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        field = {"text": "description", "contact_phone": "phone"}.get(where, where)
        field = _ATTRIBUTE_NAMES.sub(r"attribute[\1]", field)
        reason = str(first["msg"]).removeprefix("Value error, ")
        reason = _ATTRIBUTE_NAMES.sub(r"attribute[\1]", reason.replace("contact_phone", "phone"))
        raise InvalidInput(f"{field}: {reason}") from exc
    filed = intake.file_complaint(
        session, data=data, channel=Channel.open311, actor=Actor(name=f"open311:{key.name}")
    )
    # The client chose the service, so its department is a hint the router follows, as an
    # operator's choice is (routing.service); a disagreeing classifier learns from it.
    filed.complaint.sector = code
    filed.complaint.routing_hints = {
        "department": owner,
        "reason": f"Open311 service {code}",
        "by": f"open311:{key.name}",
    }
    session.add(filed.complaint)
    session.flush()
    number = display_tracking_number(filed.complaint.tracking_number)
    assert filed.complaint.id is not None
    return {
        # The public id, which GET requests/{id} reads: the client system's users see it,
        # and a database id would show how many filings (tip-offs too) came in between.
        "service_request_id": public_id(filed.complaint.id),
        "service_notice": f"已登记，受理编号 {number}，凭此编号可查询办理进度",
        "account_id": None,
    }
