"""Social quality supervisors (社会质量监督员): appointment, revocation, filing, track record.

A supervisor account appoints them, for a region and sectors of the registry; both steps
are kept on the appointment row and in the audit trail. An appointed supervisor files
through the ordinary channels with its identity attached: on the web signed in with its
own account, by SMS and on the hotline from the registered number. Its filings are marked,
may carry an inspection (place, time; photos as attachments; the product's barcode) and
start at the policy's higher priority. A tip-off is marked only when filed on the
supervisor's own web route (openly, by choice); one texted or phoned in goes the ordinary
way, its reporter's identity sealed in the vault (rewards.vault) and the filing unmarked.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from accounts.service import Staff
from cases.audit import audit
from cases.lifecycle import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.timeutil import utcnow
from intake.attachments import attach
from intake.service import FilingDraft, create_filing
from routing.repository import latest_registry_load
from schemas.complaint import Complaint
from schemas.enums import STATUS_LABELS, Channel, Kind, Role
from schemas.staff import StaffUser
from schemas.supervision import (
    AppointmentIn,
    QualitySupervisor,
    SupervisorFilingCreate,
    SupervisorFilingView,
    SupervisorHome,
    SupervisorList,
    SupervisorView,
    TrackRecord,
)
from schemas.validators import mask_phone
from supervision import repository

SECONDS_PER_DAY = 86400


def require_supervisor(staff: Staff) -> None:
    if staff.role not in {Role.supervisor, Role.admin}:
        raise PermissionDenied("only a supervisor appoints or revokes quality supervisors")


def appoint(session: Session, *, staff: Staff, data: AppointmentIn) -> QualitySupervisor:
    """Record an appointment (caller commits)."""
    require_supervisor(staff)
    load = latest_registry_load(session)
    unknown = sorted(set(data.sectors) - set(load.sectors if load else {}))
    if unknown:
        raise InvalidInput(f"sectors not in the registry: {unknown}")
    if repository.active_by_phone(session, data.phone):
        raise Conflict("a quality supervisor with this phone number is already appointed")
    account_id = None
    if data.username:
        account = session.exec(select(StaffUser).where(StaffUser.username == data.username)).first()
        if account is None or account.role is not Role.quality_supervisor or not account.active:
            raise InvalidInput(f"no active account {data.username!r} with role quality_supervisor")
        if account.id is not None and repository.active_by_staff(session, account.id):
            raise Conflict(f"account {data.username!r} is already an appointed supervisor")
        account_id = account.id
    supervisor = QualitySupervisor(
        staff_id=account_id,
        name=data.name,
        phone=data.phone,
        region=data.region,
        sectors=sorted(set(data.sectors)),
        appointed_by_id=staff.id,
    )
    session.add(supervisor)
    session.flush()
    audit(
        session,
        staff=staff,
        action="appoint_quality_supervisor",
        complaint_id=None,
        detail={"quality_supervisor_id": supervisor.id, "region": data.region},
    )
    return supervisor


def revoke(session: Session, *, staff: Staff, supervisor_id: int, reason: str) -> QualitySupervisor:
    """Record a revocation (caller commits): the person files as an ordinary citizen again."""
    require_supervisor(staff)
    supervisor = session.get(QualitySupervisor, supervisor_id)
    if supervisor is None:
        raise NotFound(f"no quality supervisor {supervisor_id}")
    if supervisor.revoked_at is not None:
        raise Conflict("this appointment is already revoked")
    supervisor.revoked_at = utcnow()
    supervisor.revoked_by_id = staff.id
    supervisor.revoke_reason = reason
    session.add(supervisor)
    session.flush()
    audit(
        session,
        staff=staff,
        action="revoke_quality_supervisor",
        complaint_id=None,
        detail={"quality_supervisor_id": supervisor_id, "reason": reason},
    )
    return supervisor


def own_appointment(session: Session, staff: Staff) -> QualitySupervisor:
    """The signed-in quality supervisor's current appointment; 403 once revoked."""
    if staff.role is not Role.quality_supervisor:
        raise PermissionDenied("this is for appointed quality supervisors")
    supervisor = repository.active_by_staff(session, staff.id)
    if supervisor is None:
        raise PermissionDenied("you are not (or no longer) an appointed quality supervisor")
    return supervisor


def file_as_supervisor(
    session: Session, *, staff: Staff, data: SupervisorFilingCreate
) -> Complaint:
    """A supervisor's web filing, marked with its identity (caller commits)."""
    supervisor = own_appointment(session, staff)
    draft = FilingDraft.of(data)
    if data.kind is Kind.tip:
        # Filed openly under the appointment (the schema takes no reporter); a tip-off's
        # row still holds no contact.
        draft = replace(draft, contact_phone=None)
    complaint = create_filing(
        session,
        draft=draft,
        channel=Channel.web,
        actor=Actor.staff(staff.username, staff.id),
        supervisor=supervisor,
        product=data.product,
        inspection=data.inspection,
    )
    assert complaint.id is not None
    private = data.kind is Kind.tip
    attach(session, complaint_id=complaint.id, tokens=data.attachments, private=private)
    return complaint


def track_record(session: Session, supervisor_id: int) -> TrackRecord:
    """Filings, how many were confirmed or refused, and the average days to close."""
    times = repository.closing_times(session, supervisor_id)
    average = (
        round(sum((c - f).total_seconds() for f, c in times) / len(times) / SECONDS_PER_DAY, 2)
        if times
        else None
    )
    return TrackRecord(
        filings=repository.filing_count(session, supervisor_id),
        confirmed=repository.filings_reaching(session, supervisor_id, repository.CONFIRMED),
        refused=repository.filings_reaching(session, supervisor_id, repository.REFUSED),
        closed=len(times),
        average_handling_days=average,
    )


FILINGS_SHOWN = 50


def view(session: Session, supervisor: QualitySupervisor) -> SupervisorView:
    assert supervisor.id is not None
    account = session.get(StaffUser, supervisor.staff_id) if supervisor.staff_id else None
    appointed_by = session.get(StaffUser, supervisor.appointed_by_id)
    revoked_by = (
        session.get(StaffUser, supervisor.revoked_by_id) if supervisor.revoked_by_id else None
    )
    return SupervisorView(
        id=supervisor.id,
        username=account.username if account else None,
        name=supervisor.name,
        phone=mask_phone(supervisor.phone),
        region=supervisor.region,
        sectors=supervisor.sectors,
        active=supervisor.revoked_at is None,
        appointed_by=appointed_by.username if appointed_by else "",
        appointed_at=supervisor.appointed_at,
        revoked_by=revoked_by.username if revoked_by else None,
        revoked_at=supervisor.revoked_at,
        revoke_reason=supervisor.revoke_reason,
        record=track_record(session, supervisor.id),
    )


def listing(session: Session, *, staff: Staff, active_only: bool, limit: int) -> SupervisorList:
    require_supervisor(staff)
    rows = repository.supervisors(session, active_only=active_only, limit=limit)
    return SupervisorList(data=[view(session, s) for s in rows], count=len(rows))


def read(session: Session, *, staff: Staff, supervisor_id: int) -> SupervisorView:
    require_supervisor(staff)
    supervisor = session.get(QualitySupervisor, supervisor_id)
    if supervisor is None:
        raise NotFound(f"no quality supervisor {supervisor_id}")
    return view(session, supervisor)


def home(session: Session, *, staff: Staff) -> SupervisorHome:
    """A supervisor's own record and latest filings (also after revocation: its history)."""
    if staff.role is not Role.quality_supervisor:
        raise PermissionDenied("this is for quality supervisors")
    supervisor = repository.latest_by_staff(session, staff.id)
    if supervisor is None or supervisor.id is None:
        raise NotFound("you have not been appointed a quality supervisor")
    filings = [
        SupervisorFilingView(
            tracking_number=c.tracking_number,
            kind=c.kind.value,
            channel=c.channel.value,
            status=c.status.value,
            status_label=STATUS_LABELS[c.status],
            priority=c.priority,
            business_name=c.business_name,
            summary=c.text[:60],
            created_at=c.created_at,
        )
        for c in repository.recent_filings(session, supervisor.id, FILINGS_SHOWN)
    ]
    return SupervisorHome(supervisor=view(session, supervisor), filings=filings)
