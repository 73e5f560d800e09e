"""Transfers: staff move a filing to another department (or back to triage), with a reason.

Each move to a department is also a routing correction: a labelled example the classifier
learns from (`complaints classifier train --from-db`).
"""

from __future__ import annotations

from sqlmodel import Session

from accounts.service import Staff
from cases.lifecycle import TRANSFERABLE, Actor, transition
from cases.service import visible_complaint
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.timeutil import stamp
from routing import repository
from routing.offices import choose_office, stored_place
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department
from schemas.enums import Kind, Role, Status

_MAY_TRANSFER = frozenset({Role.department, Role.supervisor, Role.admin})


def transfer(
    session: Session,
    *,
    staff: Staff,
    complaint_id: int,
    to_department: str,
    reason: str,
    office_code: str | None = None,
) -> Complaint:
    """Move a routed or triaged filing to `to_department` (caller commits)."""
    complaint = visible_complaint(session, staff=staff, complaint_id=complaint_id)
    if staff.role not in _MAY_TRANSFER:
        raise PermissionDenied("only department staff and supervisors transfer filings")
    if complaint.status not in TRANSFERABLE:
        raise Conflict(
            f"a filing in status {complaint.status.value} cannot be transferred",
            current_status=complaint.status.value,
        )
    target = repository.department_by_code(session, to_department)
    if target is None or not target.active or target.id is None:
        raise InvalidInput(f"no active department {to_department!r}")
    current = session.get(Department, complaint.department_id) if complaint.department_id else None
    offices = repository.active_offices(session, target.id)
    if office_code:
        office = next((o for o in offices if o.code == office_code), None)
        if office is None:
            raise InvalidInput(f"department {target.code} has no office {office_code!r}")
    else:
        office = choose_office(offices, stored_place(complaint))
    office_id = office.id if office else None
    if target.id == complaint.department_id and office_id == complaint.office_id:
        raise InvalidInput(f"the filing is already with {target.code}")
    where = office.name if office else target.name
    transition(
        session,
        complaint=complaint,
        to_status=Status.triage if target.is_triage else Status.routed,
        actor=Actor.staff(staff.username, staff.id),
        reason=reason,
        public_note="转人工分拣，重新确定承办部门" if target.is_triage else f"已转至{where}办理",
        changes={"department_id": target.id, "office_id": office_id},
        payload={
            "from_department": current.code if current else None,
            "to_department": target.code,
            "office": office.code if office else None,
        },
    )
    if not target.is_triage:
        session.add(
            RoutingCorrection(
                complaint_id=complaint_id,
                from_department=current.code if current else None,
                to_department=target.code,
                source="triage" if current is not None and current.is_triage else "transfer",
                reason=reason,
                actor_id=staff.id,
                at=stamp(coarse=complaint.kind is Kind.tip),
            )
        )
    return complaint
