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
    open311 = "open311"  # another system, through the Open311 GeoReport v2 API (opendata)


class Status(StrEnum):
    """Where a filing stands. cases.lifecycle owns which moves between them are allowed."""

    received = "received"  # stored, waiting for the router
    triage = "triage"  # no department clearly owns it: a person decides
    routed = "routed"  # in a department's queue
    # complaint (投诉)
    odr = "odr"  # the business negotiates first (online dispute resolution)
    accepted = "accepted"  # 受理
    refused = "refused"  # 不予受理, with a reason code
    mediating = "mediating"  # 调解中
    testing = "testing"  # 质量仲裁检验: the mediation clock stops
    resolved = "resolved"  # 调解成功
    mediation_ended = "mediation_ended"  # 终止调解, with a reason code
    # tip-off (举报)
    verifying = "verifying"  # 核查
    case_opened = "case_opened"  # 立案
    case_not_opened = "case_not_opened"  # 不予立案
    decided = "decided"  # 作出处理决定 (penalty recorded)
    # inquiry (咨询)
    answered = "answered"
    # every kind
    closed = "closed"  # 办结
    merged = "merged"  # closed as a duplicate of an earlier filing (merged_into_id)


STATUS_LABELS: dict[Status, str] = {
    Status.received: "已登记",
    Status.triage: "人工分拣中",
    Status.routed: "已分派至承办部门",
    Status.odr: "经营者先行和解中",
    Status.accepted: "已受理",
    Status.refused: "不予受理",
    Status.mediating: "调解中",
    Status.testing: "质量仲裁检验中",
    Status.resolved: "调解成功",
    Status.mediation_ended: "终止调解",
    Status.verifying: "核查中",
    Status.case_opened: "已立案",
    Status.case_not_opened: "不予立案",
    Status.decided: "已作出处理决定",
    Status.answered: "已答复",
    Status.closed: "已办结",
    Status.merged: "已与同一事项的投诉合并办理",
}

# A filing in one of these is finished: no clock runs, nothing more is done to it.
FINAL_STATUSES = frozenset({Status.closed, Status.merged})


class Role(StrEnum):
    operator = "operator"  # hotline operator: enters calls
    department = "department"  # works one department's queue
    supervisor = "supervisor"  # sees every queue, deadlines and trends
    admin = "admin"  # manages accounts and the registry
    reward_officer = "reward_officer"  # decides and pays rewards; the only role to open the vault
    # 社会质量监督员: a citizen appointed by a supervisor (supervision.service); files with
    # identity attached and sees its own filings and track record
    quality_supervisor = "quality_supervisor"


# The roles held by officials of the administration. A quality supervisor is a citizen
# volunteering and an operator takes calls (often a contracted call centre's staff); what
# officials alone may read, such as business credit records, is refused to them.
OFFICIALS = frozenset({Role.department, Role.supervisor, Role.admin, Role.reward_officer})


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
