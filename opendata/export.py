"""The anonymised open-data export of complaints (投诉), as CSV or JSON.

Only complaints: never a tip-off (举报), whose content and existence are the reporter's
protection, nor an inquiry. No tracking number (it opens the tracking page and the rating),
no contact, no complainant's name, address, demand or order number, no business address
(a small trader's is often a home), days not times. The
text and the business name are scrubbed (opendata.scrub). A complaint's `id` is its public id
(opendata.public_ids), not its database id, whose gaps would show when tip-offs came in.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.timeutil import CHINA, as_china
from intake.operator import SPLIT_REASON
from opendata.public_ids import public_id
from opendata.scrub import PERSON, scrub
from routing.repository import latest_registry_load
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import FINAL_STATUSES, Kind
from schemas.event import ComplaintEvent

FIELDS = (
    "id",
    "received_on",
    "closed_on",
    "status",
    "money_back",
    "sector",
    "sector_name",
    "department",
    "department_name",
    "province",
    "city",
    "county",
    "place_code",
    "business_name",
    "text",
)
BATCH = 500
ADDRESS = "[地址]"


def public_complaints(
    session: Session, *, since: date | None = None, until: date | None = None
) -> Any:
    """The query of complaints the public may see (not tip-offs, not inquiries)."""
    query = select(Complaint).where(col(Complaint.kind) == Kind.complaint)
    if since:
        query = query.where(
            col(Complaint.created_at) >= datetime.combine(since, time.min, tzinfo=CHINA)
        )
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=CHINA)
        query = query.where(col(Complaint.created_at) < end)
    return query


def closed_days(session: Session, ids: Sequence[int]) -> dict[int, datetime]:
    rows = session.exec(
        select(col(ComplaintEvent.complaint_id), func.max(col(ComplaintEvent.at)))
        .where(col(ComplaintEvent.complaint_id).in_(ids))
        .where(col(ComplaintEvent.to_status).in_(list(FINAL_STATUSES)))
        .group_by(col(ComplaintEvent.complaint_id))
    ).all()
    return {int(complaint_id): at for complaint_id, at in rows}


def split_from_calls(session: Session, ids: Sequence[int]) -> set[int]:
    """The complaints among `ids` filed with a tip-off from one call: they share its text."""
    if not ids:
        return set()
    return {
        int(complaint_id)
        for complaint_id in session.exec(
            select(col(ComplaintEvent.complaint_id))
            .where(col(ComplaintEvent.complaint_id).in_(ids))
            .where(col(ComplaintEvent.reason) == SPLIT_REASON)
        ).all()
    }


def public_text(complaint: Complaint, split: set[int]) -> str | None:
    """The complaint's text, scrubbed; none for a split call's complaint, whose text is its
    tip-off's too (the business, which knows the complainant, would learn who reported).

    The complainant's own name and address, as they gave them, are taken out first: the
    scrubber finds names by their shape, and an unusual name or any address slips past it.
    """
    if complaint.id in split:
        return None
    return scrub(without_own(complaint.text, complaint))


def without_own(text: str, complaint: Complaint) -> str:
    """`text` without the complainant's name and address, wherever they were typed into it."""
    for given, mark in (
        (complaint.complainant_address, ADDRESS),
        (complaint.complainant_name, PERSON),
    ):
        if given and given.strip():
            text = text.replace(given.strip(), mark)
    return text


def records(
    session: Session, *, since: date | None = None, until: date | None = None
) -> Iterator[dict[str, Any]]:
    """One anonymised record per public complaint, oldest first, read in batches."""
    load = latest_registry_load(session)
    sectors = dict(load.sectors) if load else {}
    departments = {d.id: d for d in session.exec(select(Department)).all()}
    last_id = 0
    while True:
        batch = session.exec(
            public_complaints(session, since=since, until=until)
            .where(col(Complaint.id) > last_id)
            .order_by(col(Complaint.id))
            .limit(BATCH)
        ).all()
        if not batch:
            return
        ids = [c.id for c in batch if c.id is not None]
        closed, split = closed_days(session, ids), split_from_calls(session, ids)
        for complaint in batch:
            assert complaint.id is not None
            yield record(complaint, sectors, departments, closed.get(complaint.id), split)
        last_id = batch[-1].id or last_id


def record(
    complaint: Complaint,
    sectors: dict[str, Any],
    departments: dict[int | None, Department],
    closed_at: datetime | None,
    split: set[int],
) -> dict[str, Any]:
    assert complaint.id is not None
    department = departments.get(complaint.department_id)
    finished = complaint.status in FINAL_STATUSES
    return {
        "id": public_id(complaint.id),
        "received_on": as_china(complaint.created_at).date().isoformat(),
        "closed_on": as_china(closed_at).date().isoformat() if finished and closed_at else None,
        "status": "closed" if finished else "open",
        # Settled with money back (refund, compensation), as CFPB's "closed with monetary
        # relief"; the amount is not published. None: not settled, or not recorded.
        "money_back": complaint.recovered_fen > 0 if complaint.recovered_fen is not None else None,
        "sector": complaint.sector,
        "sector_name": sectors.get(complaint.sector) if complaint.sector else None,
        "department": department.code if department and not department.is_triage else None,
        "department_name": department.name if department and not department.is_triage else None,
        "province": complaint.place_province,
        "city": complaint.place_city,
        "county": complaint.place_county,
        "place_code": complaint.place_code,
        "business_name": scrub(complaint.business_name) or None,
        "text": public_text(complaint, split),
    }


def to_csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    yield out.getvalue()
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        yield out.getvalue()


def to_json(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"fields": ' + json.dumps(list(FIELDS)) + ', "data": ['
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]}\n"
