"""Telling the citizen: an SMS at every public step, to the filing's contact number."""

from __future__ import annotations

from sqlmodel import Session

from intake.tracking_number import display_tracking_number
from notify.service import queue_sms
from schemas.complaint import Complaint
from schemas.department import Department
from schemas.enums import Kind
from schemas.office import Office


def notify_citizen(
    session: Session, *, complaint: Complaint, template: str, fields: dict[str, str]
) -> None:
    """Queue the SMS (sent after commit); an anonymous filing has no number and gets none.

    A tip-off's reporter is reached through the vault, sealed, if they left a number.
    """
    if complaint.id is None:
        return
    if complaint.kind is Kind.tip:
        from rewards.vault import notify_reporter  # the vault's only door for texting

        notify_reporter(session, complaint=complaint, template=template, params=fields)
        return
    if not complaint.contact_phone:
        return
    office = session.get(Office, complaint.office_id) if complaint.office_id else None
    department = (
        session.get(Department, complaint.department_id) if complaint.department_id else None
    )
    where = office.name if office else (department.name if department else "承办部门")
    queue_sms(
        session,
        to=complaint.contact_phone,
        template=template,
        params={
            "number": display_tracking_number(complaint.tracking_number),
            "where": where,
            **fields,
        },
        complaint_id=complaint.id,
    )
