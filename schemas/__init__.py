"""The vocabulary: tables, API shapes and enums. Importing it registers every table."""

from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department, RegistryLoad
from schemas.event import ComplaintEvent
from schemas.office import Office
from schemas.outbox import OutboxMessage
from schemas.sms import SmsInbound, SmsOutbound
from schemas.staff import StaffUser

__all__ = [
    "Complaint",
    "ComplaintEvent",
    "Department",
    "Office",
    "OutboxMessage",
    "RegistryLoad",
    "RoutingCorrection",
    "SmsInbound",
    "SmsOutbound",
    "StaffUser",
]
