"""The reporter's side of a tip-off, reached with the receipt code only.

The reporter follows the case (public steps, by day), reads the department's questions and
answers them, and claims a reward by giving who to pay. Answers are scrubbed of the
reporter's own numbers before a department reads them; a claim's identity goes to the vault.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from cases.lifecycle import Actor, record
from core.errors import InvalidInput
from core.timeutil import as_china
from intake.service import public_view
from rewards import receipts, vault
from schemas.complaint import Complaint
from schemas.event import ComplaintEvent
from schemas.reporter import ReporterIdentityIn
from schemas.tipoff import WHO_TO_PAY, ReporterCaseView, ReporterQuestion

REPORTER = Actor(name="reporter")  # never more than that: who reported is in the vault
QUESTION = "question to the reporter"
ANSWER = "reporter answered"


def case_view(session: Session, complaint: Complaint) -> ReporterCaseView:
    from rewards.workflow import reporter_view  # the reward file, as the reporter may see it

    assert complaint.id is not None
    events = session.exec(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint.id)
        .where(col(ComplaintEvent.reason).in_([QUESTION, ANSWER]))
        .order_by(col(ComplaintEvent.id))
    ).all()
    return ReporterCaseView(
        case=public_view(session, complaint),
        questions=[
            ReporterQuestion(
                on=as_china(event.at).date().isoformat(),
                question=str(event.payload.get("question", "")),
            )
            for event in events
            if event.reason == QUESTION
        ],
        answers_sent=sum(1 for event in events if event.reason == ANSWER),
        identity_on_file=vault.has_identity(session, complaint.id),
        reward=reporter_view(session, complaint.id),
    )


def follow(session: Session, raw_code: str) -> ReporterCaseView:
    return case_view(session, receipts.verify(session, raw_code))


def answer(session: Session, *, raw_code: str, text: str) -> Complaint:
    """The reporter's answer, on the filing's history for the department (caller commits)."""
    complaint = receipts.verify(session, raw_code)
    assert complaint.id is not None
    text = vault.scrub_known(session, complaint_id=complaint.id, text=text)
    record(session, complaint=complaint, actor=REPORTER, reason=ANSWER, payload={"text": text})
    return complaint


def claim_reward(session: Session, *, raw_code: str, identity: ReporterIdentityIn) -> Complaint:
    """Who to pay, sealed in the vault; the history says only that a claim came in. A claim
    that gives nothing is refused before the code is tried: nothing would be sealed."""
    if not identity.given():
        raise InvalidInput(WHO_TO_PAY)
    complaint = receipts.verify(session, raw_code)
    assert complaint.id is not None
    vault.store(session, complaint_id=complaint.id, identity=identity)
    record(
        session,
        complaint=complaint,
        actor=REPORTER,
        reason="reward claimed",
        payload={"fields_given": sorted(identity.given())},
    )
    return complaint
