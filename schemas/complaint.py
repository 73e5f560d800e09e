"""A filing (投诉 / 举报 / 咨询): the table, what a citizen sends, what each reader sees."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Column, Date, Index, Table, Text, literal_column
from sqlmodel import Field, SQLModel

from cases.policy import current_policy
from core.db import UTCDateTime
from core.timeutil import china_today, utcnow
from schemas.attachment import AttachmentStaffView
from schemas.department import DepartmentRef
from schemas.duplicate import DuplicateSuggestion
from schemas.enums import Channel, Kind, Status, stored_as_text
from schemas.event import EventPublic, EventStaffView
from schemas.formats import (
    CN_PHONE,
    CN_USCC,
    WHITE_SPACE,
    Trimmed,
    iso_date_text,
    no_control_characters,
    required_when,
    trimmed_length_pattern,
)
from schemas.office import OfficeRef
from schemas.product import ProductIn
from schemas.reporter import ReporterIdentityIn
from schemas.validators import normalize_cn_phone, normalize_uscc, uscc_problem

TEXT_MIN, TEXT_MAX = 10, 5000
# Said by the web form's rule below and by the hotline's (intake.operator).
BUSINESS_REQUIRED = "business_name is required for a complaint or a tip-off"
PHONE_REQUIRED = "contact_phone is required for a complaint or an inquiry"


def name_missing(field: str = "complainant_name") -> str:
    """Why a complaint without its complainant's name is refused (the hotline's field is
    caller_name)."""
    return (
        f"{field} is required for a complaint: it is made under the complainant's real name "
        "(a tip-off may be anonymous)"
    )


def name_required(kind: Kind) -> bool:
    """Whether a filing of this kind must name its complainant: a complaint, while the policy
    says so (intake.complaint_requires_name, SAMR Order 121)."""
    return kind is Kind.complaint and current_policy().intake.complaint_requires_name


def _missing_reason(field: str, kind: Kind) -> str | None:
    """Why a filing of this kind cannot leave `field` out, or None if it may."""
    if field == "contact_phone" and kind is not Kind.tip:
        # 投诉 and 咨询 need a way to reach the person; a 举报 may be anonymous.
        return PHONE_REQUIRED
    if field == "business_name" and kind is not Kind.inquiry:
        # 投诉 and 举报 are about a business; the regulator must know which.
        return BUSINESS_REQUIRED
    if field == "complainant_name" and name_required(kind):
        return name_missing()
    return None


# What the rules ask of a complaint only (the complainant, the demand, the purchase): a
# tip-off's reporter goes to the vault, never onto the row; an inquiry is no dispute.
COMPLAINT_ONLY = (
    "complainant_name",
    "complainant_address",
    "demand",
    "purchased_on",
    "order_number",
)
FIRST_PURCHASE_DAY = date(1990, 1, 1)
# The years a purchase day may have (1990–2099), in the schema too; "not in the future" is
# the validator's, as no schema knows today.
PURCHASE_DAY_PATTERN = r"^(199\d|20\d{2})-\d{2}-\d{2}$"


def complaint_only_reason(field: str, kind: Kind) -> str:
    """Why a complaint-only field is refused on another kind: a reporter's name or address
    on a tip-off's row would undo the vault; an inquiry has no dispute to settle."""
    if kind is Kind.tip:
        return f"{field} is for complaints only; a tip-off's reporter is given in reporter"
    return f"{field} is for complaints only; an inquiry is not a dispute"


def purchase_day_problem(day: date) -> str | None:
    if day < FIRST_PURCHASE_DAY:
        return f"purchased_on must not be before {FIRST_PURCHASE_DAY.isoformat()}"
    if day > china_today():
        return "purchased_on must not be in the future"
    return None


def _purchase_day(day: date) -> date:
    problem = purchase_day_problem(day)
    if problem:
        raise ValueError(problem)
    return day


PurchaseDay = Annotated[
    date,
    BeforeValidator(iso_date_text),
    AfterValidator(_purchase_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": PURCHASE_DAY_PATTERN}),
]


# A filing's due date, or the end of time when it has none: the deadline queue's sort key.
# A literal, not a parameter, so that the database can use the index built on it.
DUE_OR_LAST = literal_column("coalesce(deadline_due_on, '9999-12-31')", type_=Date)


class Complaint(SQLModel, table=True):
    """The system of record for one filing. `status` changes only in cases.lifecycle."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_queue", "department_id", "status", "id"),
        # The queue sorted by deadline (cases.repository.queue_page): undated filings last.
        Index("ix_complaints_queue_by_deadline", "department_id", DUE_OR_LAST, "id"),
        # SQLite: ids through sqlite_sequence, so a group can draw them before it writes
        # (core.write_behind.reserve_ids; migration 0023).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(max_length=20, unique=True, index=True)
    kind: Kind = Field(sa_type=stored_as_text(Kind))
    channel: Channel = Field(sa_type=stored_as_text(Channel))
    status: Status = Field(sa_type=stored_as_text(Status), index=True)
    text: str = Field(sa_type=Text)
    contact_phone: str | None = Field(default=None, max_length=20, index=True)
    business_name: str | None = Field(default=None, max_length=200)
    business_uscc: str | None = Field(default=None, max_length=18, index=True)
    business_address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=100)
    # What the rules ask of a complaint besides the business and the facts (a complaint's
    # only: a tip-off's reporter is sealed in the vault, an inquiry is no dispute). The name,
    # address and order number are personal data: shown to CONTACT_READERS, never published,
    # erased by retention with the contact number.
    complainant_name: str | None = Field(default=None, max_length=60)
    complainant_address: str | None = Field(default=None, max_length=300)
    demand: str | None = Field(default=None, max_length=500)
    purchased_on: date | None = Field(default=None)
    order_number: str | None = Field(default=None, max_length=100)
    # What the consumer got back when the complaint was settled (refund, compensation),
    # in fen: 挽回经济损失, the figure bureaus report. 0: settled without money; None: not
    # settled (or settled before it was recorded).
    recovered_fen: int | None = Field(default=None, sa_type=BigInteger)
    # The registry's sector (product or service type): as filed (Open311 service code), else
    # as the router finds it (routing.sectors); none when nothing says which.
    sector: str | None = Field(default=None, max_length=32, index=True)
    # The business's credit key (insights.credit): USCC, else a hash of name and address.
    business_key: str | None = Field(default=None, max_length=40, index=True)
    department_id: int | None = Field(default=None, foreign_key="departments.id")
    office_id: int | None = Field(default=None, foreign_key="offices.id")
    # Where the filing is about, as found by the router (classifiers.place).
    place_province: str | None = Field(default=None, max_length=30)
    place_city: str | None = Field(default=None, max_length=30)
    place_county: str | None = Field(default=None, max_length=30)
    place_code: str | None = Field(default=None, max_length=6, index=True)
    # Holds both a consumer dispute and a violation: to be split into two filings.
    split_suggested: bool = Field(default=False)
    # An operator's decisions the router must follow: {"department", "place", "reason", "by"}.
    routing_hints: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # Set when staff merge this filing into an earlier one about the same matter. Indexed:
    # closing a filing looks up the filings merged into it to tell them the outcome.
    merged_into_id: int | None = Field(default=None, foreign_key="complaints.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="staff_users.id")
    # The earliest running legal time limit (cases.deadlines), for sorting queues by urgency.
    deadline_due_on: date | None = Field(default=None, index=True)
    version: int = Field(default=1, description="bumped by every status change")
    # Filed by an appointed social quality supervisor (supervision), and the starting priority
    # (0 normal; the policy's quality_supervisors.starting_priority for supervisors' filings).
    quality_supervisor_id: int | None = Field(
        default=None, foreign_key="quality_supervisors.id", index=True
    )
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The day the retention job erased the filing's personal data (rewards.retention).
    personal_data_purged_on: date | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _filing_text(value: str) -> str:
    text = value.strip(WHITE_SPACE)  # as pydantic strips every other field
    if not TEXT_MIN <= len(text) <= TEXT_MAX:
        raise ValueError(f"text must be {TEXT_MIN}–{TEXT_MAX} characters, got {len(text)}")
    return no_control_characters(text)


def _phone(value: str) -> str:
    return normalize_cn_phone(value)


def _uscc(value: str) -> str:
    code = normalize_uscc(value)
    problem = uscc_problem(code)
    if problem:
        raise ValueError(f"unified social credit code {problem}")
    return code


# The schema states the rule the validator applies (10–5,000 characters once trimmed, no
# control characters but tab and line breaks); the validator's message says it in words.
FilingText = Annotated[
    str,
    AfterValidator(_filing_text),
    PydanticField(json_schema_extra={"pattern": trimmed_length_pattern(TEXT_MIN, TEXT_MAX)}),
]


# The table itself, for Core statements that must skip the ORM's per-row bookkeeping.
COMPLAINTS: Table = Complaint.__table__  # type: ignore[attr-defined]


def _KIND_IS(*kinds: str) -> dict[str, Any]:
    return {"required": ["kind"], "properties": {"kind": {"enum": list(kinds)}}}


def _kind_rules(schema: dict[str, Any]) -> None:
    """The per-kind rules of ComplaintCreate's validators, in its schema; whether a complaint
    must name its complainant is the policy's, read when the schema is made (at start-up)."""
    rules = [
        required_when(_KIND_IS("complaint", "inquiry"), "contact_phone"),
        required_when(_KIND_IS("complaint", "tip"), "business_name"),
        {
            "if": _KIND_IS("tip", "inquiry"),
            "then": {"properties": {f: {"type": "null"} for f in COMPLAINT_ONLY}},
        },
        {
            "if": _KIND_IS("complaint", "inquiry"),
            "then": {"properties": {"reporter": {"type": "null"}}},
        },
    ]
    if name_required(Kind.complaint):
        rules.append(required_when(_KIND_IS("complaint"), "complainant_name"))
    schema["allOf"] = rules


# A field a kind requires is validated when left out too, so that its error names it.
_CHECKED_WHEN_MISSING = PydanticField(validate_default=True)
_RequiredName = Annotated[Annotated[str, Trimmed(1, 60)] | None, _CHECKED_WHEN_MISSING]


class ComplaintCreate(BaseModel):
    """What a citizen sends. Server-owned fields (status, department…) are refused."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=_kind_rules,
    )

    kind: Kind
    text: FilingText = PydanticField(description=f"what happened, {TEXT_MIN}–{TEXT_MAX} characters")
    contact_phone: Annotated[
        Annotated[str, AfterValidator(_phone), CN_PHONE] | None, _CHECKED_WHEN_MISSING
    ] = PydanticField(
        default=None, description="mainland China mobile or landline; required but for tip-offs"
    )
    business_name: Annotated[Annotated[str, Trimmed(1, 200)] | None, _CHECKED_WHEN_MISSING] = None
    business_uscc: Annotated[str, AfterValidator(_uscc), CN_USCC] | None = PydanticField(
        default=None, description="统一社会信用代码, 18 characters, check digit verified"
    )
    business_address: Annotated[str, Trimmed(1, 300)] | None = None
    region: Annotated[str, Trimmed(1, 100)] | None = None
    complainant_name: _RequiredName = PydanticField(
        default=None,
        description="complaint only: the complainant's real name (姓名); the rules require it "
        "for a complaint, refused without it while the policy's intake.complaint_requires_name "
        "is on (SAMR Order 121)",
    )
    complainant_address: Annotated[str, Trimmed(1, 300)] | None = PydanticField(
        default=None,
        description="complaint only: the complainant's address (地址); the rules require it "
        "for a complaint",
    )
    demand: Annotated[str, Trimmed(1, 500)] | None = PydanticField(
        default=None,
        description="complaint only: what the complainant asks for (诉求), e.g. 退货退款, 赔偿; "
        "the rules require it for a complaint",
    )
    purchased_on: PurchaseDay | None = PydanticField(
        default=None,
        description="complaint only: the day of purchase, YYYY-MM-DD, "
        f"not before {FIRST_PURCHASE_DAY.isoformat()} and not in the future",
    )
    order_number: Annotated[str, Trimmed(1, 100)] | None = PydanticField(
        default=None, description="complaint only: the order or receipt number"
    )
    attachments: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]] = PydanticField(
        default_factory=list, description="ids returned by POST /api/v1/attachments"
    )
    product: ProductIn | None = PydanticField(
        default=None, description="the product it is about: barcode, or name and batch"
    )
    reporter: ReporterIdentityIn | None = PydanticField(
        default=None,
        description="a tip-off's reporter (all optional): sealed in the identity vault, never "
        "shown to the department; needed to be paid a reward, can also be given later",
    )

    @field_validator(*COMPLAINT_ONLY)
    @classmethod
    def _complaint_only(cls, value: Any, info: ValidationInfo) -> Any:
        # A field validator, not the model's: the error then names the field. `kind` is
        # declared first, so it is known here (absent when it was itself invalid).
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not Kind.complaint:
            raise ValueError(complaint_only_reason(info.field_name or "", kind))
        return value

    @field_validator("contact_phone", "business_name", "complainant_name")
    @classmethod
    def _required_for_kind(cls, value: Any, info: ValidationInfo) -> Any:
        # Per field, so that the error names the field left out (no kind: its own error).
        kind = info.data.get("kind")
        if value is None and kind is not None:
            reason = _missing_reason(info.field_name or "", kind)
            if reason:
                raise ValueError(reason)
        return value

    @model_validator(mode="after")
    def _reporter_for_tips(self) -> ComplaintCreate:
        if self.reporter is not None and self.kind is not Kind.tip:
            raise ValueError("reporter is for tip-offs; a complaint or inquiry gives contact_phone")
        return self


class ComplaintCreated(SQLModel):
    tracking_number: str
    tracking_number_display: str
    status: Status
    tracking_url: str | None = Field(description="public tracking; none for a tip-off")
    receipt_code: str | None = Field(
        default=None,
        description="a tip-off's receipt code, shown this once: with it the reporter follows "
        "the case, answers questions and claims a reward",
    )
    receipt_code_display: str | None = None


class TrackingView(SQLModel):
    """What anyone holding the tracking number may see: no personal data."""

    tracking_number: str
    kind: Kind
    kind_label: str
    status: Status
    status_label: str
    department: DepartmentRef | None
    office: str | None = None  # the office's name, e.g. 太原市小店区质量技术监督局
    filed_at: datetime
    current_step_due_on: date | None = None  # the last day of the running time limit
    timeline: list[EventPublic]


class DeadlineView(SQLModel):
    step: str
    started_on: date
    due_on: date
    state: str  # active | paused | met | breached
    badge: str | None  # ok | warning | overdue, for running clocks


class ComplaintStaffView(SQLModel):
    id: int
    tracking_number: str
    kind: Kind
    channel: Channel
    status: Status
    text: str
    contact_phone: str | None
    business_name: str | None
    business_uscc: str | None
    business_address: str | None
    region: str | None
    # A complaint's demand and purchase; the complainant's name and address only for the
    # roles that may read the full contact number (cases.views.CONTACT_READERS), else null.
    demand: str | None = None
    purchased_on: date | None = None
    order_number: str | None = None
    complainant_name: str | None = None
    complainant_address: str | None = None
    recovered_fen: int | None = None  # 挽回经济损失 on settling, in fen
    department: DepartmentRef | None
    office: OfficeRef | None
    place_province: str | None
    place_city: str | None
    place_county: str | None
    place_code: str | None
    split_suggested: bool
    routing_hints: dict[str, Any]
    allowed_actions: list[str]
    assignee: str | None
    deadline_due_on: date | None
    deadline_badge: str | None
    deadlines: list[DeadlineView]
    arbitration_tests: list[dict[str, Any]]
    tip_case: dict[str, Any] | None
    rating: int | None
    merged_into: str | None  # the surviving filing's tracking number
    duplicates: list[DuplicateSuggestion]
    attachments: list[AttachmentStaffView]
    routing: dict[str, Any] | None
    # Filed by an appointed quality supervisor (its id), the starting priority, what it saw on
    # the inspection (place, time), and the product named (barcode, name, batch, injury).
    quality_supervisor_id: int | None = None
    priority: int = 0
    inspection: dict[str, Any] | None = None
    product: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    history: list[EventStaffView]


class QueueItem(SQLModel):
    id: int
    tracking_number: str
    kind: Kind
    status: Status
    business_name: str | None
    summary: str
    place_code: str | None
    deadline_due_on: date | None
    deadline_badge: str | None  # ok | warning | overdue
    assignee_id: int | None
    priority: int = 0  # above 0: filed by a quality supervisor
    created_at: datetime


class QueuePage(SQLModel):
    data: list[QueueItem]
    count: int
    next_cursor: str | None


class RatingCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    score: int = Field(ge=1, le=5, description="1 (very unsatisfied) to 5 (very satisfied)")
    comment: Annotated[str, Trimmed(0, 500)] | None = None
