"""API shapes of the hotline operator console."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

from schemas.complaint import FilingText, _phone, _uscc
from schemas.department import DepartmentRef
from schemas.enums import Kind, Status

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class OperatorCall(SQLModel):
    """What an operator types during a call. Overrides of the suggestion need a reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    caller_phone: Annotated[str, AfterValidator(_phone)]
    caller_name: Short | None = Field(
        default=None, max_length=60, description="for a tip-off: sealed in the identity vault"
    )
    text: FilingText
    kind: Kind | None = Field(default=None, description="default: detected from the text")
    business_name: Short | None = Field(default=None, max_length=200)
    business_uscc: Annotated[str, AfterValidator(_uscc)] | None = None
    business_address: Short | None = Field(default=None, max_length=300)
    region: Short | None = Field(default=None, max_length=100)
    department: Short | None = Field(
        default=None, max_length=32, description="route to this department, not the suggestion"
    )
    place: Short | None = Field(
        default=None, max_length=100, description="the place to route by, e.g. 太原市小店区"
    )
    override_reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]
        | None
    ) = None
    split: bool = Field(
        default=False, description="the call holds a complaint and a tip-off: file both"
    )

    @model_validator(mode="after")
    def _reason_for_overrides(self) -> OperatorCall:
        if (self.department or self.place) and not self.override_reason:
            raise ValueError("override_reason is required when department or place is set")
        if self.split and self.kind is not None:
            raise ValueError("a split call files one complaint and one tip-off; leave kind out")
        return self


class FiledRef(SQLModel):
    tracking_number: str
    tracking_number_display: str
    kind: Kind
    status: Status
    receipt_code_display: str | None = Field(
        default=None, description="a tip-off's receipt code: read it to the caller, shown once"
    )


class OperatorFiled(SQLModel):
    filings: list[FiledRef]
    kind_detected: Kind


class CallerFiling(SQLModel):
    id: int
    tracking_number: str
    kind: Kind
    channel: str
    status: Status
    department: DepartmentRef | None
    business_name: str | None
    summary: str
    created_at: datetime


class CallerHistory(SQLModel):
    caller_phone: str
    data: list[CallerFiling]
