"""API shapes of routing: a draft to classify, the suggestion, a transfer."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from schemas.department import DepartmentRef
from schemas.enums import Kind, Status
from schemas.formats import MAX_ID, Trimmed
from schemas.office import OfficeRef

Reason = Annotated[str, Trimmed(2, 500)]


class ClassifyRequest(SQLModel):
    """A draft filing, as an operator types it."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    text: Annotated[str, Trimmed(1, 5000)]
    business_name: str | None = Field(default=None, max_length=200)
    business_address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=100)


class KindSuggestion(SQLModel):
    kind: Kind
    confidence: float
    reasons: list[str]
    split_suggested: bool


class DepartmentSuggestion(SQLModel):
    label: str
    department: DepartmentRef | None  # None: the model's label names no registry department
    score: float
    reasons: list[str]


class ClassifyResult(SQLModel):
    status: Status  # routed or triage: where the router would send it now
    department: DepartmentRef
    office: OfficeRef | None
    place: dict[str, Any] | None
    jurisdiction: dict[str, Any]  # the rule that chose the place: address, platform, text…
    kind: KindSuggestion
    suggestions: list[DepartmentSuggestion]
    classifier: str
    version: str
    threshold: float
    reason: str
    elapsed_ms: float


class TransferRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    department: Annotated[str, Trimmed(1, 32)]
    reason: Reason
    office: str | None = Field(default=None, max_length=60)


class TransferResult(SQLModel):
    """Where the filing is now (the mover may no longer see it, so no full view)."""

    id: int
    status: Status
    department: DepartmentRef
    office: OfficeRef | None


class MergeRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    into: int = Field(ge=1, le=MAX_ID, description="the id of the earlier filing that stays open")
    reason: Reason


class DismissRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    link_id: int = Field(ge=1, le=MAX_ID)
