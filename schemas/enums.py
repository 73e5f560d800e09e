"""The platform's closed vocabularies."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum as SAEnum


class Kind(StrEnum):
    """What a filing is (市场监督管理投诉举报处理办法)."""

    complaint = "complaint"  # 投诉: a consumer dispute, mediated
    tip = "tip"  # 举报: a suspected violation, an enforcement lead
    inquiry = "inquiry"  # 咨询: a question


KIND_LABELS: dict[Kind, str] = {Kind.complaint: "投诉", Kind.tip: "举报", Kind.inquiry: "咨询"}


class Channel(StrEnum):
    web = "web"
    sms = "sms"
    hotline = "hotline"


class Status(StrEnum):
    """Where a filing stands. cases.lifecycle owns which moves between them are allowed."""

    received = "received"  # stored, waiting for the router
    triage = "triage"  # no department clearly owns it: a person decides
    routed = "routed"  # in a department's queue
    merged = "merged"  # closed as a duplicate of an earlier filing (merged_into_id)


STATUS_LABELS: dict[Status, str] = {
    Status.received: "已登记",
    Status.triage: "人工分拣中",
    Status.routed: "已分派至承办部门",
    Status.merged: "已与同一事项的投诉合并办理",
}


class Role(StrEnum):
    operator = "operator"  # hotline operator: enters calls
    department = "department"  # works one department's queue
    supervisor = "supervisor"  # sees every queue, deadlines and trends
    admin = "admin"  # manages accounts and the registry


def stored_as_text(enum_cls: type[StrEnum]) -> SAEnum:
    """An enum column stored as plain VARCHAR (no database enum type, no CHECK constraint),
    so later migrations add a status or a kind without altering a type."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=30,
        values_callable=lambda members: [m.value for m in members],
    )
