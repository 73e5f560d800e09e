"""What the drills ask of the database: how many filings are routed, and how often."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from cases.lifecycle import Actor
from core.db import get_engine, session_scope
from intake.service import FilingDraft, create_filing
from schemas import Complaint, ComplaintEvent, OutboxMessage
from schemas.enums import Channel, Kind, Status

TEXT = "小区电梯困人两次，物业不修，电梯年检标志过期了，请质监部门检查。"


def file_directly(count: int, *, per_transaction: int = 100) -> list[int]:
    """File `count` complaints as intake does (rows, events, outbox; drains poked at commit)."""
    ids: list[int] = []
    while len(ids) < count:
        with session_scope() as session:
            for _ in range(min(per_transaction, count - len(ids))):
                complaint = create_filing(
                    session,
                    draft=FilingDraft(
                        kind=Kind.complaint,
                        text=TEXT,
                        contact_phone="+8613812345678",
                        business_name="太原市某某电梯维保有限公司",
                        business_address="山西省太原市小店区某某路1号",
                    ),
                    channel=Channel.web,
                    actor=Actor.system("drill"),
                )
                assert complaint.id is not None
                ids.append(complaint.id)
            session.commit()
    return ids


def routed_count() -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(Complaint)
                .where(col(Complaint.status) != Status.received)
            ).one()
        )


def routing_events_per_filing() -> dict[int, int]:
    """Filing id → how many times it left `received` (must be exactly once each)."""
    with Session(get_engine(read_only=True)) as session:
        rows = session.exec(
            select(ComplaintEvent.complaint_id, func.count())
            .where(ComplaintEvent.from_status == Status.received)
            .group_by(ComplaintEvent.complaint_id)
        ).all()
    return {int(cid): int(n) for cid, n in rows}


def pending_outbox() -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.dispatched_at).is_(None))
            ).one()
        )


def outbox_summary() -> str:
    """Pending outbox rows by job: how many, tries, due, given up, last error (for failures)."""
    with Session(get_engine(read_only=True)) as session:
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.dispatched_at).is_(None))
        ).all()
    lines = [
        f"{row.job} #{row.id} attempts={row.attempts} available_at={row.available_at} "
        f"failed_at={row.failed_at} error={(row.last_error or '')[-300:]!r}"
        for row in rows[:20]
    ]
    return f"{len(rows)} pending outbox row(s):\n" + "\n".join(lines)
