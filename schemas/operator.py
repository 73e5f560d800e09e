"""API shapes of the hotline operator console."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, model_validator
from sqlmodel import Field, SQLModel

from schemas.complaint import _KIND_IS, FilingText, _phone, _uscc, name_required
from schemas.department import DepartmentRef
from schemas.enums import Kind, Status
from schemas.formats import CN_PHONE, CN_USCC, Trimmed, given, required_when
from schemas.product import ProductIn

_SPLIT = {"required": ["split"], "properties": {"split": {"const": True}}}


def _call_rules(schema: dict[str, Any]) -> None:
    """The rules of _reason_for_overrides, in the schema; and what a complaint or tip-off must
    give (intake.operator checks it once the kind is known, detected or given): its business,
    and a complaint its caller's name while the policy asks for it (read at start-up)."""
    rules = [
        required_when({"anyOf": [given("department"), given("place")]}, "override_reason"),
        required_when({"anyOf": [_KIND_IS("complaint", "tip"), _SPLIT]}, "business_name"),
        {"if": _SPLIT, "then": {"properties": {"kind": {"type": "null"}}}},
        # A complaint's own content; a detected kind is checked by intake.operator.
        {
            "if": _KIND_IS("tip", "inquiry"),
            "then": {
                "properties": {"caller_address": {"type": "null"}, "demand": {"type": "null"}}
            },
        },
    ]
    if name_required(Kind.complaint):
        rules.append(required_when({"anyOf": [_KIND_IS("complaint"), _SPLIT]}, "caller_name"))
    schema["allOf"] = rules


class OperatorCall(SQLModel):
    """What an operator types during a call. Overrides of the suggestion need a reason."""

    model_config = ConfigDict(  # type: ignore[assignment]
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=_call_rules,
    )

    caller_phone: Annotated[str, AfterValidator(_phone), CN_PHONE]
    caller_name: Annotated[str, Trimmed(1, 60)] | None = Field(
        default=None,
        description="a complaint's complainant_name, required for a complaint (given, split or "
        "detected) while the policy asks for a complainant's real name; for a tip-off: sealed "
        "in the identity vault, never on the filing",
    )
    caller_address: Annotated[str, Trimmed(1, 300)] | None = Field(
        default=None,
        description="a complaint's complainant_address (the rules require it for a complaint); "
        "refused for a tip-off or an inquiry",
    )
    demand: Annotated[str, Trimmed(1, 500)] | None = Field(
        default=None,
        description="a complaint's demand (诉求, e.g. 退货退款, 赔偿; the rules require it for a "
        "complaint); refused for a tip-off or an inquiry",
    )
    text: FilingText
    kind: Kind | None = Field(default=None, description="default: detected from the text")
    business_name: Annotated[str, Trimmed(1, 200)] | None = Field(
        default=None, description="required for a complaint or a tip-off (given or detected)"
    )
    business_uscc: Annotated[str, AfterValidator(_uscc), CN_USCC] | None = None
    business_address: Annotated[str, Trimmed(1, 300)] | None = None
    region: Annotated[str, Trimmed(1, 100)] | None = None
    department: Annotated[str, Trimmed(1, 32)] | None = Field(
        default=None, description="route to this department, not the suggestion"
    )
    place: Annotated[str, Trimmed(1, 100)] | None = Field(
        default=None, description="the place to route by, e.g. 太原市小店区"
    )
    override_reason: Annotated[str, Trimmed(2, 500)] | None = None
    product: ProductIn | None = Field(
        default=None, description="the product it is about: barcode, or name and batch"
    )
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
