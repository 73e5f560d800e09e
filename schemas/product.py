"""Products named in filings, and product-risk cases (缺陷产品召回): tables and API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, StrictBool, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow
from schemas.department import DepartmentRef
from schemas.event import APPEND_ONLY
from schemas.formats import Trimmed, given
from schemas.validators import gtin_problem, normalize_gtin


class Product(SQLModel, table=True):
    """One product and batch, whatever channel or place it was named from.

    `product_key` names the product (its GTIN, else its normalised name, brand and model);
    `record_key` adds the batch. Filings about the same product share the row by record_key.
    """

    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    record_key: str = Field(max_length=120, unique=True)
    product_key: str = Field(max_length=80, index=True)
    name_key: str | None = Field(default=None, max_length=80, index=True)
    gtin: str | None = Field(default=None, max_length=14, index=True)  # as GTIN-14
    name: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    batch: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FilingProduct(SQLModel, table=True):
    """The product one filing is about, and whether it hurt someone. No time: a tip-off's
    rows carry none."""

    __tablename__ = "filing_products"

    complaint_id: int = Field(foreign_key="complaints.id", primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    injury: bool = Field(default=False)


class ProductRiskCase(SQLModel, table=True):
    """A possible defect in one product: the quality department's work item.

    open → no_defect | defect_confirmed → recall_ordered → recall_finished (products.risk).
    `open_key` holds the product key while the case is unfinished: unique, so one product
    never has two unfinished cases.
    """

    __tablename__ = "product_risk_cases"
    __table_args__ = (UniqueConstraint("open_key", name="uq_product_risk_cases_open_key"),)

    id: int | None = Field(default=None, primary_key=True)
    product_key: str = Field(max_length=80, index=True)
    open_key: str | None = Field(default=None, max_length=80)
    product_id: int = Field(foreign_key="products.id")
    department_id: int = Field(foreign_key="departments.id", index=True)
    state: str = Field(default="open", max_length=20, index=True)
    trigger: str = Field(max_length=20)  # injury | batch_threshold | product_threshold
    trigger_detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProductRiskFiling(SQLModel, table=True):
    """A filing linked to a case as evidence."""

    __tablename__ = "product_risk_filings"
    __table_args__ = (UniqueConstraint("case_id", "complaint_id", name="uq_product_risk_filing"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="product_risk_cases.id", index=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)


class ProductRiskEvent(SQLModel, table=True):
    """One step in a case's history. Rows are only ever inserted."""

    __tablename__ = "product_risk_events"
    __table_args__ = (Index("ix_product_risk_events_case", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="product_risk_cases.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=100)
    actor_id: int | None = Field(default=None, foreign_key="staff_users.id")
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RecallNotice(SQLModel, table=True):
    """The recall text sent about one filing of a case: at most one per filing (unique)."""

    __tablename__ = "product_recall_notices"
    __table_args__ = (UniqueConstraint("case_id", "complaint_id", name="uq_recall_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="product_risk_cases.id", index=True)
    complaint_id: int = Field(foreign_key="complaints.id")
    sms_id: int | None = Field(default=None, foreign_key="sms_outbound.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


APPEND_ONLY.append(ProductRiskEvent)


def _gtin(value: str) -> str:
    code = normalize_gtin(value)
    problem = gtin_problem(code)
    if problem:
        raise ValueError(f"barcode {problem}")
    return code


GTIN = Annotated[
    str,
    AfterValidator(_gtin),
    PydanticField(json_schema_extra={"format": "gtin", "pattern": r"^\s*[0-9 -]{8,20}\s*$"}),
]


class ProductIn(SQLModel):
    """A product named in a filing: its barcode, or its name (brand, model), and a batch."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"anyOf": [given("gtin"), given("name")]},
    )

    gtin: GTIN | None = Field(
        default=None, description="barcode: GTIN-8, -12 (UPC-A), -13 (EAN) or -14, check digit"
    )
    name: Annotated[str, Trimmed(1, 200)] | None = None
    brand: Annotated[str, Trimmed(1, 100)] | None = None
    model: Annotated[str, Trimmed(1, 100)] | None = None
    batch: Annotated[str, Trimmed(1, 60)] | None = Field(
        default=None, description="batch or lot number (批次号)"
    )
    injury: StrictBool = Field(default=False, description="the product hurt someone")

    @model_validator(mode="after")
    def _named(self) -> ProductIn:
        if self.gtin is None and self.name is None:
            raise ValueError("a product needs its barcode (gtin) or its name")
        return self


class ProductView(SQLModel):
    id: int
    gtin: str | None
    name: str | None
    brand: str | None
    model: str | None
    batch: str | None


class RiskFilingView(SQLModel):
    id: int
    tracking_number: str
    channel: str
    filed_on: str  # the day, China time
    place: str | None
    batch: str | None
    injury: bool
    summary: str


class RiskEventView(SQLModel):
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    note: str


class ProductRiskView(SQLModel):
    id: int
    state: str
    state_label: str
    trigger: str
    trigger_detail: dict[str, Any]
    department: DepartmentRef
    product: ProductView
    batches: list[str]
    places: list[str]
    first_filed_on: str | None
    last_filed_on: str | None
    filings: list[RiskFilingView]
    allowed_outcomes: list[str]
    recall_notices: int
    history: list[RiskEventView]
    created_at: datetime


class ProductRiskList(SQLModel):
    data: list[ProductRiskView]
    count: int


class RiskOutcomeIn(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    outcome: Literal["no_defect", "defect_confirmed", "recall_ordered", "recall_finished"]
    note: Annotated[str, Trimmed(2, 500)]
