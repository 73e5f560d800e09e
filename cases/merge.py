"""Merging a duplicate into the earlier filing about the same matter; both histories stay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from accounts.service import Staff
from cases import repository
from cases.lifecycle import Actor, record, transition
from cases.notifications import notify_citizen
from cases.service import visible_complaint
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opendata.scrub import scrub
from schemas.complaint import Complaint
from schemas.duplicate import DuplicateLink
from schemas.enums import Kind, Role, Status

_MAY_MERGE = frozenset({Role.department, Role.supervisor, Role.admin})
MERGED_NOTE = "已与反映同一事项的另一件登记合并，由承办部门一并办理"
# The history payload key under which an outcome's text is kept on the survivor's move, so
# that a filing merged into it later is told the same (retention erases it with the rest).
OUTCOME_KEY = "outcome"


@dataclass(frozen=True)
class Outcome:
    """What a filing came to (closed with a summary, an inquiry answered), as the citizens
    of the filings merged into it are told."""

    status: Status  # Status.closed or Status.answered
    text: str  # as written for the survivor's citizen; empty if no longer known

    def note(self, text: str) -> str:
        said = f"：{text}" if text else ""
        if self.status is Status.answered:
            return f"合并办理的咨询已答复{said}"
        return f"合并办理的事项已办结{said}"

    def sms(self, text: str) -> tuple[str, dict[str, str]]:
        if self.status is Status.answered:
            return ("answered", {"answer": text[:120]})
        # Not the survivor's "closed" text: it asks for a rating, and only the survivor's
        # filing can be rated (cases.satisfaction.rate refuses a merged one).
        return ("merged_closed", {"outcome": f"：{text}" if text else ""})


def merge(
    session: Session, *, staff: Staff, duplicate_id: int, survivor_id: int, reason: str
) -> Complaint:
    """Close `duplicate_id` as merged into `survivor_id` (caller commits)."""
    if staff.role not in _MAY_MERGE:
        raise PermissionDenied("only department staff and supervisors merge filings")
    # Both rows, not only the duplicate's (its compare-and-set guards that one): otherwise two
    # staff merging A into B and B into A at once both win, and the matter is left unhandled.
    repository.lock_complaints(session, [duplicate_id, survivor_id])
    duplicate = visible_complaint(session, staff=staff, complaint_id=duplicate_id)
    if duplicate_id == survivor_id:
        raise InvalidInput("a filing cannot be merged into itself")
    survivor = visible_complaint(session, staff=staff, complaint_id=survivor_id)
    if (duplicate.kind is Kind.tip) != (survivor.kind is Kind.tip):
        # A merged filing's citizen is told the survivor's outcome (tell_merged): a complaint
        # merged into a tip-off would learn the tip-off exists and how it ended, a reporter
        # another citizen's settlement. The duplicate finder never pairs them either.
        raise InvalidInput("a tip-off and a complaint or inquiry cannot be merged")
    if survivor.status is Status.merged:
        raise Conflict(
            f"filing {survivor_id} is merged into {survivor.merged_into_id}; merge into that",
            current_status=survivor.status.value,
        )
    actor = Actor.staff(staff.username, staff.id)
    transition(
        session,
        complaint=duplicate,
        to_status=Status.merged,
        actor=actor,
        reason=reason,
        # Not the survivor's number: it is another citizen's key to their page and rating.
        public_note=MERGED_NOTE,
        changes={"merged_into_id": survivor_id},
        payload={"survivor": survivor.tracking_number, "survivor_id": survivor_id},
    )
    record(
        session,
        complaint=survivor,
        actor=actor,
        reason=f"merged duplicate {duplicate.tracking_number}: {reason}",
        payload={"duplicate": duplicate.tracking_number, "duplicate_id": duplicate_id},
    )
    link = _link(session, duplicate_id, survivor_id)
    if link is None:
        link = DuplicateLink(
            complaint_id=max(duplicate_id, survivor_id),
            duplicate_of_id=min(duplicate_id, survivor_id),
            similarity=0.0,
            reason="staff",
        )
    link.state = "merged"
    try:
        with session.begin_nested():  # the duplicate search may have just linked the pair
            session.add(link)
    except IntegrityError as exc:
        raise Conflict("the two filings were linked meanwhile; reload and merge again") from exc
    if survivor.status in (Status.answered, Status.closed):
        # Merged into a filing that already has its outcome: nobody will close it again, so
        # the duplicate (and whatever was merged into the duplicate) hears it now. The row
        # lock above orders this after a close of the survivor running meanwhile, whose
        # outcome this then reads; a close after the merge finds the duplicate itself.
        assert duplicate.id is not None
        _tell(
            session,
            [duplicate, *repository.merged_into(session, duplicate.id)],
            survivor=survivor,
            outcomes=recorded_outcomes(session, survivor),
            actor=actor,
        )
    return duplicate


def tell_merged(
    session: Session, *, survivor: Complaint, outcome: Outcome, actor: Actor
) -> list[Complaint]:
    """`survivor` has just reached `outcome`: every filing merged into it, at any depth, gets
    a public history entry with it and its citizen the SMS (caller commits). Returns them.

    Merged is final, so this is a history entry, not a status change. Neither the note nor
    the SMS names the survivor's number or anything of its citizen: each citizen is told
    under their own tracking number, and the survivor's text loses names and numbers.
    """
    assert survivor.id is not None
    filings = repository.merged_into(session, survivor.id)
    _tell(session, filings, survivor=survivor, outcomes=[outcome], actor=actor)
    return list(filings)


def recorded_outcomes(session: Session, survivor: Complaint) -> list[Outcome]:
    """The outcomes the survivor's history records, oldest first (an inquiry: its answer,
    then its closing). A filing closed before outcomes were recorded, or whose text
    retention has erased, is still closed: told without the text."""
    assert survivor.id is not None
    outcomes = [
        Outcome(event.to_status, str(event.payload[OUTCOME_KEY]))
        for event in repository.outcome_events(session, survivor.id)
        if event.to_status is not None and OUTCOME_KEY in event.payload
    ]
    if not outcomes and survivor.status is Status.closed:
        outcomes = [Outcome(Status.closed, "")]
    return outcomes


def _tell(
    session: Session,
    filings: Sequence[Complaint],
    *,
    survivor: Complaint,
    outcomes: Sequence[Outcome],
    actor: Actor,
) -> None:
    if not filings or not outcomes:
        return
    # Written for the survivor's citizen; another citizen gets it without names and numbers.
    told = [(outcome, scrub(outcome.text)) for outcome in outcomes]
    # One person who filed the same matter twice was texted under the survivor's number (or
    # the first merged filing's): their other filings get the entry, not the same SMS again.
    texted = {survivor.contact_phone} if survivor.contact_phone else set()
    for filing in filings:
        for outcome, text in told:
            record(
                session,
                complaint=filing,
                actor=actor,
                reason=f"outcome of the filing it was merged into ({survivor.tracking_number})",
                payload={"status": outcome.status.value, "outcome_of": survivor.id},
                public=True,
                public_note=outcome.note(text),
            )
        if filing.contact_phone in texted:
            continue
        for outcome, text in told:
            template, fields = outcome.sms(text)
            notify_citizen(session, complaint=filing, template=template, fields=fields)
        if filing.contact_phone:
            texted.add(filing.contact_phone)


def dismiss(session: Session, *, staff: Staff, complaint_id: int, link_id: int) -> DuplicateLink:
    """Mark a suggested duplicate as not one (caller commits)."""
    visible_complaint(session, staff=staff, complaint_id=complaint_id)
    link = session.get(DuplicateLink, link_id)
    if link is None or complaint_id not in {link.complaint_id, link.duplicate_of_id}:
        raise NotFound(f"no duplicate suggestion {link_id} on filing {complaint_id}")
    if link.state != "suggested":
        raise Conflict(f"the suggestion is already {link.state}")
    link.state = "dismissed"
    session.add(link)
    return link


def _link(session: Session, a: int, b: int) -> DuplicateLink | None:
    return session.exec(
        select(DuplicateLink).where(
            or_(
                (col(DuplicateLink.complaint_id) == a) & (col(DuplicateLink.duplicate_of_id) == b),
                (col(DuplicateLink.complaint_id) == b) & (col(DuplicateLink.duplicate_of_id) == a),
            )
        )
    ).first()
