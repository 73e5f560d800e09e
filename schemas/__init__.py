"""The vocabulary: tables, API shapes and enums. Importing it registers every table."""

from schemas.attachment import Attachment
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department, RegistryLoad
from schemas.duplicate import DuplicateLink, SignatureBand, TextSignature
from schemas.event import ComplaintEvent
from schemas.idempotency import IdempotencyKey
from schemas.office import Office
from schemas.outbox import OutboxMessage
from schemas.sms import SmsInbound, SmsOutbound
from schemas.staff import StaffUser

__all__ = [
    "Attachment",
    "Complaint",
    "ComplaintEvent",
    "Department",
    "DuplicateLink",
    "IdempotencyKey",
    "Office",
    "OutboxMessage",
    "RegistryLoad",
    "RoutingCorrection",
    "SignatureBand",
    "SmsInbound",
    "SmsOutbound",
    "StaffUser",
    "TextSignature",
]
