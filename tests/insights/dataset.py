"""A generated set of filings with everything statistics read, and the answers worked out
from the generator's own records (not from the database)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.timeutil import as_china
from schemas.casework import Deadline, SatisfactionRating
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Channel, Kind, Status
from schemas.event import ComplaintEvent

PLACES = [
    ("140105", "太原市", "小店区"),
    ("140106", "太原市", "迎泽区"),
    ("140213", "大同市", "平城区"),
    ("140403", "长治市", "潞州区"),
    None,
]
SECTORS = {"quality": ["special_equipment", "metrology"], "housing": ["housing"], "aic": [None]}


@dataclass
class Record:
    kind: Kind
    channel: Channel
    department: str
    sector: str | None
    place: tuple[str, str, str] | None
    created_at: datetime
    accept_days: float | None = None  # days after filing it was accepted
    refused: bool = False
    mediation: str | None = None  # resolved | ended
    close_days: float | None = None
    clocks: list[tuple[str, str]] = field(default_factory=list)  # (step, state)
    rating: int | None = None
    recovered_fen: int | None = None  # settled (mediation or ODR): what the consumer got back
    odr: bool = False  # settled by the business directly, never accepted

    @property
    def china_day(self) -> date:
        return as_china(self.created_at).date()


RECOVERED = [0, 9900, 150000, 1234567, 10**12]  # fen; the last beyond 32 bits


def generate(seed: int = 9, n: int = 240) -> list[Record]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records: list[Record] = []
    for i in range(n):
        department = rng.choice(list(SECTORS))
        kind = rng.choice([Kind.complaint, Kind.complaint, Kind.complaint, Kind.tip, Kind.inquiry])
        created = start + timedelta(minutes=rng.randrange(0, 89 * 24 * 60))
        if i % 40 == 0:  # 01:30 China time on the 1st: still the month before in UTC
            created = datetime(2026, 1 + (i // 40) % 3, 1, tzinfo=UTC) - timedelta(
                hours=6, minutes=30
            )
            created = max(created, start)
        record = Record(
            kind=kind,
            channel=rng.choice(list(Channel)[:3]),
            department=department,
            sector=rng.choice(SECTORS[department]),
            place=rng.choice(PLACES),
            created_at=created,
        )
        if kind is Kind.complaint:
            if rng.random() < 0.25:
                record.refused = True
                record.clocks.append(("accept_decision", rng.choice(["met", "breached"])))
                record.close_days = rng.choice([3.0, 8.5, 10.0])
            elif rng.random() < 0.8:
                record.accept_days = rng.choice([1.0, 2.5, 6.0])
                record.clocks.append(("accept_decision", rng.choice(["met", "met", "breached"])))
                outcome = rng.choice(["resolved", "ended", None])
                record.mediation = outcome
                record.clocks.append(("mediation", "met" if outcome else "active"))
                if outcome:
                    record.close_days = record.accept_days + rng.choice([5.0, 20.0, 30.5])
                if outcome == "resolved":
                    record.recovered_fen = rng.choice(RECOVERED)
            elif rng.random() < 0.5:  # the business settled in ODR
                record.odr, record.close_days = True, 4.0
                record.recovered_fen = rng.choice(RECOVERED)
            else:
                record.clocks.append(("accept_decision", "active"))
        elif kind is Kind.inquiry:
            record.clocks.append(("inquiry_answer", rng.choice(["met", "breached", "active"])))
        if record.close_days is not None and rng.random() < 0.6:
            record.rating = rng.randint(1, 5)
        records.append(record)
    return records


def store(session: Session, records: list[Record]) -> None:
    departments = {d.code: d.id for d in session.exec(select(Department)).all()}
    for number, record in enumerate(records, start=1):
        code, city, county = record.place or (None, None, None)
        complaint = Complaint(
            tracking_number=f"{number:014d}",
            kind=record.kind,
            channel=record.channel,
            status=Status.closed if record.close_days is not None else Status.routed,
            text="生成的统计测试数据，不含任何个人信息。",
            business_name="某某公司",
            department_id=departments[record.department],
            sector=record.sector,
            place_province="山西省" if code else None,
            place_city=city,
            place_county=county,
            place_code=code,
            created_at=record.created_at,
            updated_at=record.created_at,
            recovered_fen=record.recovered_fen,
        )
        session.add(complaint)
        session.flush()
        assert complaint.id is not None
        moves = [(None, Status.received, 0.0), (Status.received, Status.routed, 0.01)]
        last = Status.routed
        if record.refused:
            moves.append((last, Status.refused, 1.0))
            last = Status.refused
        if record.accept_days is not None:
            moves.append((last, Status.accepted, record.accept_days))
            moves.append((Status.accepted, Status.mediating, record.accept_days))
            last = Status.mediating
            if record.mediation:
                to = Status.resolved if record.mediation == "resolved" else Status.mediation_ended
                moves.append((last, to, record.accept_days + 1))
                last = to
        if record.odr:
            moves.append((last, Status.odr, 0.02))
            last = Status.odr
        if record.close_days is not None:
            moves.append((last, Status.closed, record.close_days))
        for from_status, to_status, days in moves:
            session.add(
                ComplaintEvent(
                    complaint_id=complaint.id,
                    at=record.created_at + timedelta(days=days),
                    actor="system:test",
                    from_status=from_status,
                    to_status=to_status,
                    reason="generated",
                )
            )
        day = record.china_day
        for step, state in record.clocks:
            session.add(
                Deadline(
                    complaint_id=complaint.id,
                    step=step,
                    started_on=day,
                    due_on=day + timedelta(days=10),
                    state=state,
                )
            )
        if record.rating:
            session.add(
                SatisfactionRating(
                    complaint_id=complaint.id,
                    department_id=departments[record.department],
                    score=record.rating,
                    channel="web",
                )
            )
    session.commit()


def chosen(
    records: list[Record], since: date | None, until: date | None, place: str | None
) -> list[Record]:
    return [
        r
        for r in records
        if (since is None or r.china_day >= since)
        and (until is None or r.china_day <= until)
        and (place is None or (r.place is not None and r.place[0].startswith(place)))
    ]


def key_of(record: Record, dimension: str) -> str | None:
    if dimension == "city":
        return record.place[0][:4] if record.place else None
    if dimension == "county":
        return record.place[0] if record.place else None
    value = getattr(record, dimension)
    return value.value if hasattr(value, "value") else value


def expected_counts(records: list[Record], dimension: str) -> dict[tuple[str | None, str], int]:
    """(key, month) → filings."""
    return dict(Counter((key_of(r, dimension), r.china_day.strftime("%Y-%m")) for r in records))


def expected_deadlines(records: list[Record]) -> dict[tuple[str, str], tuple[int, int, int]]:
    found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in records:
        for step, state in r.clocks:
            slot = {"met": 0, "breached": 1}.get(state, 2)
            found[(r.department, step)][slot] += 1
    return {k: (v[0], v[1], v[2]) for k, v in found.items()}


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def expected_timings(records: list[Record], department: str | None) -> dict[str, Any]:
    mine = [r for r in records if department is None or r.department == department]
    accepted = [r.accept_days for r in mine if r.accept_days is not None]
    closed = [r.close_days for r in mine if r.close_days is not None]
    return {
        "accepted": len(accepted),
        "average_days_to_accept": mean(accepted),
        "closed": len(closed),
        "average_days_to_close": mean(closed),
    }


def expected_outcomes(records: list[Record], department: str | None) -> dict[str, int]:
    mine = [
        r
        for r in records
        if r.kind is Kind.complaint and (department is None or r.department == department)
    ]
    return {
        "decided": sum(1 for r in mine if r.refused or r.accept_days is not None),
        "refused": sum(1 for r in mine if r.refused),
        "mediations_concluded": sum(1 for r in mine if r.mediation),
        "mediations_succeeded": sum(1 for r in mine if r.mediation == "resolved"),
        "settled": sum(1 for r in mine if r.recovered_fen is not None),
        "settled_with_money": sum(1 for r in mine if r.recovered_fen),
        "recovered_fen": sum(r.recovered_fen or 0 for r in mine),
    }


def expected_satisfaction(records: list[Record]) -> dict[str, tuple[int, float]]:
    found: dict[str, list[int]] = defaultdict(list)
    for r in records:
        if r.rating:
            found[r.department].append(r.rating)
    return {d: (len(v), sum(v) / len(v)) for d, v in found.items()}
