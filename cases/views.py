"""What staff see of one filing: the record, its history, clocks, links and next actions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from accounts.service import Staff
from cases import repository
from cases.actions import allowed_actions
from cases.audit import audit
from cases.deadlines import badge
from cases.service import visible_complaint
from core.errors import NotFound, PermissionDenied
from schemas.attachment import Attachment, AttachmentStaffView
from schemas.casework import ArbitrationTest, Deadline, SatisfactionRating, TipCase
from schemas.complaint import Complaint, ComplaintStaffView, DeadlineView
from schemas.department import Department, DepartmentRef
from schemas.duplicate import DuplicateSuggestion
from schemas.enums import Role
from schemas.event import EventStaffView
from schemas.office import Office, OfficeRef
from schemas.product import FilingProduct, Product
from schemas.staff import StaffUser
from schemas.supervision import SupervisorInspection
from schemas.validators import mask_phone

# Who may read a complainant's full number: the people who call back (the desk's roles).
CONTACT_READERS = frozenset({Role.department, Role.supervisor, Role.admin})


def staff_view(
    session: Session, *, staff: Staff, complaint_id: int, audited: bool = True
) -> ComplaintStaffView:
    """The full record for staff who may see it; opening it is written to the audit trail."""
    complaint = visible_complaint(session, staff=staff, complaint_id=complaint_id)
    assert complaint.id is not None
    if audited:
        audit(session, staff=staff, action="view", complaint_id=complaint.id)
        session.commit()
        session.refresh(complaint)
    department = (
        session.get(Department, complaint.department_id) if complaint.department_id else None
    )
    office = session.get(Office, complaint.office_id) if complaint.office_id else None
    routing = repository.latest_routing_event(session, complaint.id)
    merged_into = (
        session.get(Complaint, complaint.merged_into_id) if complaint.merged_into_id else None
    )
    assignee = session.get(StaffUser, complaint.assignee_id) if complaint.assignee_id else None
    rating = session.exec(
        select(SatisfactionRating).where(SatisfactionRating.complaint_id == complaint.id)
    ).first()
    tip_case = session.exec(select(TipCase).where(TipCase.complaint_id == complaint.id)).first()
    reads_complainant = staff.role in CONTACT_READERS
    return ComplaintStaffView(
        **complaint.model_dump(
            exclude={
                "department_id",
                "office_id",
                "version",
                "merged_into_id",
                "assignee_id",
                "contact_phone",
                "personal_data_purged_on",
                "complainant_name",
                "complainant_address",
            }
        ),
        # Personal data as the contact number is: only for those who call back. Unlike a
        # phone number, a masked name still names: anyone else gets none.
        complainant_name=complaint.complainant_name if reads_complainant else None,
        complainant_address=complaint.complainant_address if reads_complainant else None,
        # Masked on screen; the full number only through contact_of (audited).
        contact_phone=mask_phone(complaint.contact_phone) if complaint.contact_phone else None,
        allowed_actions=allowed_actions(complaint),
        assignee=assignee.username if assignee else None,
        deadline_badge=badge(complaint.deadline_due_on),
        deadlines=[
            DeadlineView(
                step=d.step,
                started_on=d.started_on,
                due_on=d.due_on,
                state=d.state,
                badge=badge(d.due_on) if d.closed_at is None and d.state == "active" else None,
            )
            for d in session.exec(
                select(Deadline)
                .where(Deadline.complaint_id == complaint.id)
                .order_by(col(Deadline.id))
            )
        ],
        arbitration_tests=[
            t.model_dump(mode="json", exclude={"complaint_id"})
            for t in session.exec(
                select(ArbitrationTest)
                .where(ArbitrationTest.complaint_id == complaint.id)
                .order_by(col(ArbitrationTest.id))
            )
        ],
        tip_case=tip_case.model_dump(mode="json", exclude={"id", "complaint_id"})
        if tip_case
        else None,
        rating=rating.score if rating else None,
        merged_into=merged_into.tracking_number if merged_into else None,
        duplicates=_duplicates(session, complaint.id),
        attachments=[
            AttachmentStaffView(
                id=a.id or 0,
                content_type=a.content_type,
                size=a.size,
                filename=a.filename,
                url=f"/api/v1/complaints/{complaint.id}/attachments/{a.id}",
            )
            for a in repository.attachments(session, complaint.id)
        ],
        department=DepartmentRef(code=department.code, name=department.name)
        if department
        else None,
        office=OfficeRef(code=office.code, name=office.name, level=office.level)
        if office
        else None,
        routing=routing.payload if routing else None,
        inspection=_inspection(session, complaint.id),
        product=_product(session, complaint.id),
        history=[
            EventStaffView.model_validate(event, from_attributes=True)
            for event in repository.history(session, complaint.id)
        ],
    )


def _duplicates(session: Session, complaint_id: int) -> list[DuplicateSuggestion]:
    suggestions = []
    for link in repository.duplicate_links(session, complaint_id):
        other_id = link.duplicate_of_id if link.complaint_id == complaint_id else link.complaint_id
        other = session.get(Complaint, other_id)
        if other is None or link.id is None:
            continue
        suggestions.append(
            DuplicateSuggestion(
                link_id=link.id,
                other_id=other_id,
                other_tracking_number=other.tracking_number,
                similarity=link.similarity,
                reason=link.reason,
                state=link.state,
            )
        )
    return suggestions


def contact_of(session: Session, *, staff: Staff, complaint_id: int) -> str:
    """The complainant's full number, to call them (mediation, questions): audited. Only the
    people who call back may read it: the filing's department and supervisors (admins too);
    an operator sees the masked number, as the desk shows it."""
    if staff.role not in CONTACT_READERS:
        raise PermissionDenied("only department staff and supervisors may read a contact number")
    complaint = visible_complaint(session, staff=staff, complaint_id=complaint_id)
    if not complaint.contact_phone:
        raise NotFound("this filing has no contact number (anonymous, a tip-off, or purged)")
    audit(session, staff=staff, action="contact.read", complaint_id=complaint_id)
    session.commit()
    return complaint.contact_phone


def attachment_of(
    session: Session, *, staff: Staff, complaint_id: int, attachment_id: int
) -> Attachment:
    """One of the filing's attachments, for staff who may see the filing."""
    visible_complaint(session, staff=staff, complaint_id=complaint_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.complaint_id != complaint_id:
        raise NotFound(f"no attachment {attachment_id} on filing {complaint_id}")
    audit(
        session,
        staff=staff,
        action="download",
        complaint_id=complaint_id,
        detail={"attachment": attachment_id},
    )
    session.commit()
    return attachment


def _inspection(session: Session, complaint_id: int) -> dict[str, Any] | None:
    """What a quality supervisor saw on the inspection it filed about, if it did."""
    inspection = session.get(SupervisorInspection, complaint_id)
    if inspection is None:
        return None
    return inspection.model_dump(include={"place", "inspected_at"})


def _product(session: Session, complaint_id: int) -> dict[str, Any] | None:
    """The product the filing names, and whether it hurt someone."""
    link = session.get(FilingProduct, complaint_id)
    product = session.get(Product, link.product_id) if link else None
    if link is None or product is None:
        return None
    fields = {"id", "gtin", "name", "brand", "model", "batch"}
    return product.model_dump(mode="json", include=fields) | {"injury": link.injury}
