"""The vocabulary: tables, API shapes and enums. Importing it registers every table."""

from schemas.attachment import Attachment
from schemas.casework import (
    ArbitrationTest,
    AuditEntry,
    Deadline,
    DepartmentWebhook,
    OdrBusiness,
    SatisfactionRating,
    TipCase,
    WebhookDelivery,
)
from schemas.complaint import Complaint
from schemas.correction import RoutingCorrection
from schemas.department import Department, RegistryLoad
from schemas.duplicate import DuplicateLink, SignatureBand, TextSignature
from schemas.event import ComplaintEvent
from schemas.follow_up import FollowUpCall
from schemas.idempotency import IdempotencyKey
from schemas.insights import Alert, AlertEvent, BusinessCredit, CreditChange
from schemas.office import Office
from schemas.open311 import Open311Key
from schemas.outbox import OutboxMessage
from schemas.product import (
    FilingProduct,
    Product,
    ProductRiskCase,
    ProductRiskEvent,
    ProductRiskFiling,
    RecallNotice,
)
from schemas.reward import (
    ReporterIdentity,
    Reward,
    RewardAmount,
    RewardApproval,
    RewardEvent,
    RewardPayment,
    TipReceipt,
)
from schemas.sms import SmsInbound, SmsOutbound
from schemas.staff import StaffSession, StaffUser
from schemas.supervision import QualitySupervisor, SupervisorInspection

__all__ = [
    "Alert",
    "AlertEvent",
    "ArbitrationTest",
    "Attachment",
    "AuditEntry",
    "BusinessCredit",
    "Complaint",
    "ComplaintEvent",
    "CreditChange",
    "Deadline",
    "Department",
    "DepartmentWebhook",
    "DuplicateLink",
    "FilingProduct",
    "FollowUpCall",
    "IdempotencyKey",
    "OdrBusiness",
    "Office",
    "Open311Key",
    "OutboxMessage",
    "Product",
    "ProductRiskCase",
    "ProductRiskEvent",
    "ProductRiskFiling",
    "QualitySupervisor",
    "RecallNotice",
    "RegistryLoad",
    "ReporterIdentity",
    "Reward",
    "RewardAmount",
    "RewardApproval",
    "RewardEvent",
    "RewardPayment",
    "RoutingCorrection",
    "SatisfactionRating",
    "SignatureBand",
    "SmsInbound",
    "SmsOutbound",
    "StaffSession",
    "StaffUser",
    "SupervisorInspection",
    "TextSignature",
    "TipCase",
    "TipReceipt",
    "WebhookDelivery",
]
