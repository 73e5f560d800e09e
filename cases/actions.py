"""What staff do to a filing: one spec per action, and the one function that performs it.

Each action names its body, the status it moves to (or none), the kinds it applies to,
what it records besides the status, and what the citizen is told. A filing's
`allowed_actions` are exactly the specs whose move its kind and status allow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from accounts.service import Staff
from cases import deadlines
from cases.lifecycle import TRANSFERABLE, Actor, allowed_next, record, transition
from cases.merge import OUTCOME_KEY, Outcome, tell_merged
from cases.notifications import notify_citizen
from cases.policy import Policy, current_policy
from cases.service import visible_complaint
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.timeutil import day_start, utcnow
from intake.attachments import attach
from schemas import actions as bodies
from schemas.casework import ArbitrationTest, TipCase
from schemas.complaint import Complaint
from schemas.enums import FINAL_STATUSES, Kind, Role, Status
from schemas.staff import StaffUser

_MAY_ACT = frozenset({Role.department, Role.supervisor, Role.admin})
ALL_KINDS = frozenset(Kind)
S = Status


@dataclass
class Context:
    session: Session
    complaint: Complaint
    staff: Staff
    body: Any
    policy: Policy


@dataclass
class Effect:
    reason: str
    public_note: str | None = None  # None: an internal step, not on the tracking page
    payload: dict[str, Any] = field(default_factory=dict)
    sms: tuple[str, dict[str, str]] | None = None  # template and its fields
    # The filing's outcome (a closing summary, an answer): also told to the filings merged
    # into it (cases.merge.tell_merged). Steps on the way (a refusal's grounds, a mediation's
    # agreement, a tip-off's case decisions) concern the survivor's own citizen and are not.
    outcome: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # columns the move sets


@dataclass(frozen=True)
class ActionSpec:
    name: str
    body: type[bodies.ActionBody]
    to: Status | None
    effect: Callable[[Context], Effect]
    kinds: frozenset[Kind] = ALL_KINDS


def _label(ctx: Context, codes: dict[str, str], code: str, what: str) -> str:
    if code not in codes:
        raise InvalidInput(f"{what} must be one of: {', '.join(codes)}")
    return codes[code]


def _accept(ctx: Context) -> Effect:
    return Effect("accepted", "投诉已受理", {"note": ctx.body.note}, ("accepted", {}))


def _refuse(ctx: Context) -> Effect:
    label = _label(ctx, ctx.policy.refusal_grounds, ctx.body.reason_code, "reason_code")
    note = f"不予受理：{label}。{ctx.body.explanation}"
    return Effect(
        f"refused: {ctx.body.reason_code}",
        note,
        {"reason_code": ctx.body.reason_code, "explanation": ctx.body.explanation},
        ("refused", {"reason": f"{label}。{ctx.body.explanation}"}),
    )


def _refer_to_odr(ctx: Context) -> Effect:
    days = ctx.policy.limits.odr_working_days
    return Effect("referred to the business (ODR)", f"转经营者先行和解，{days}个工作日内处理")


def _odr_settled(ctx: Context) -> Effect:
    return Effect(
        "settled by the business",
        f"经营者已与您和解：{ctx.body.summary}",
        {"recovered_fen": ctx.body.recovered_fen},
        sms=_closed_sms(ctx.body.summary),
        outcome=ctx.body.summary,
        changes={"recovered_fen": ctx.body.recovered_fen},
    )


def _odr_failed(ctx: Context) -> Effect:
    return Effect(f"ODR failed: {ctx.body.summary}", "经营者未能和解，转由市场监督管理部门处理")


def _start_mediation(_ctx: Context) -> Effect:
    return Effect("mediation started", "开始调解")


def _request_testing(ctx: Context) -> Effect:
    body: bodies.TestingRequestBody = ctx.body
    assert ctx.complaint.id is not None
    ctx.session.add(ArbitrationTest(complaint_id=ctx.complaint.id, **body.model_dump()))
    return Effect(
        "arbitration testing requested",
        f"委托{body.lab}进行质量仲裁检验，预计{body.due_on.isoformat()}前出具报告；检验期间不计入调解期限",
        body.model_dump(mode="json"),
    )


_OUTCOMES = {"conforming": "检验合格", "nonconforming": "检验不合格", "inconclusive": "无法判定"}


def _record_test_report(ctx: Context) -> Effect:
    body: bodies.TestReportBody = ctx.body
    assert ctx.complaint.id is not None
    test = ctx.session.exec(
        select(ArbitrationTest)
        .where(ArbitrationTest.complaint_id == ctx.complaint.id)
        .where(col(ArbitrationTest.reported_at).is_(None))
        .order_by(col(ArbitrationTest.id).desc())
    ).first()
    if test is None:
        raise Conflict("no arbitration test is waiting for its report")
    if body.attachment:
        [file] = attach(ctx.session, complaint_id=ctx.complaint.id, tokens=[body.attachment])
        test.report_attachment_id = file.id
    objection_until = deadlines.today() + timedelta(
        days=ctx.policy.limits.test_report_objection_days
    )
    test.outcome, test.report_summary = body.outcome, body.summary
    test.reported_at, test.objection_until = utcnow(), objection_until
    ctx.session.add(test)
    return Effect(
        f"test report: {body.outcome}",
        f"检验报告：{_OUTCOMES[body.outcome]}。对报告有异议的，请于{objection_until.isoformat()}前提出",
        {
            "outcome": body.outcome,
            "objection_until": objection_until.isoformat(),
            "test_id": test.id,
        },
    )


def _mediation_succeeded(ctx: Context) -> Effect:
    result = f"调解成功：{ctx.body.agreement}"
    return Effect(
        "mediation succeeded",
        result,
        {"agreement": ctx.body.agreement, "recovered_fen": ctx.body.recovered_fen},
        ("mediation_result", {"result": result}),
        changes={"recovered_fen": ctx.body.recovered_fen},
    )


def _end_mediation(ctx: Context) -> Effect:
    label = _label(ctx, ctx.policy.mediation_end_reasons, ctx.body.reason_code, "reason_code")
    result = f"终止调解：{label}。{ctx.body.explanation}"
    return Effect(
        f"mediation ended: {ctx.body.reason_code}",
        result,
        {"reason_code": ctx.body.reason_code, "explanation": ctx.body.explanation},
        ("mediation_result", {"result": result}),
    )


def _closed_sms(summary: str) -> tuple[str, dict[str, str]]:
    return ("closed", {"summary": summary})


def _close(ctx: Context) -> Effect:
    summary = ctx.body.summary
    return Effect("closed", f"办结：{summary}", sms=_closed_sms(summary), outcome=summary)


def _tip_case(ctx: Context) -> TipCase:
    assert ctx.complaint.id is not None
    case = ctx.session.exec(select(TipCase).where(TipCase.complaint_id == ctx.complaint.id)).first()
    return case or TipCase(complaint_id=ctx.complaint.id)


def _start_verification(_ctx: Context) -> Effect:
    return Effect("verification started", "正在核查举报线索")


def _open_case(ctx: Context) -> Effect:
    case = _tip_case(ctx)
    case.case_number, case.opened_at = ctx.body.case_number, day_start()
    ctx.session.add(case)
    return Effect(
        "case opened",
        "已立案调查",
        {"case_number": ctx.body.case_number},
        ("case_decision", {"decision": "已立案调查"}),
    )


def _not_open_case(ctx: Context) -> Effect:
    case = _tip_case(ctx)
    case.not_opened_reason = ctx.body.reason
    ctx.session.add(case)
    return Effect(
        "case not opened",
        f"不予立案：{ctx.body.reason}",
        {"reason": ctx.body.reason},
        ("case_decision", {"decision": f"经核查不予立案（{ctx.body.reason}）"}),
    )


def _decide(ctx: Context) -> Effect:
    body: bodies.DecisionBody = ctx.body
    case = _tip_case(ctx)
    case.decision_number, case.penalty_fen = body.decision_number, body.penalty_fen
    case.confiscation_fen, case.decided_at = body.confiscation_fen, day_start()
    case.crime_transferred, case.business_suspended = (
        body.crime_transferred,
        body.business_suspended,
    )
    case.licence_revoked = body.licence_revoked
    ctx.session.add(case)
    # Amounts stay internal: the reward officer reads them from the case record.
    return Effect("decided", "已依法作出处理决定", body.model_dump(mode="json"))


def _ask_reporter(ctx: Context) -> Effect:
    # Shown on the reporter's receipt-code page; a reporter who left a number is texted.
    return Effect(
        "question to the reporter",
        f"承办部门提问：{ctx.body.question}",
        {"question": ctx.body.question},
        ("reporter_question", {}),
    )


def _answer(ctx: Context) -> Effect:
    answer = ctx.body.answer
    return Effect("answered", answer, sms=("answered", {"answer": answer[:120]}), outcome=answer)


def _claim(ctx: Context) -> Effect:
    name = ctx.body.assignee or ctx.staff.username
    user = ctx.session.exec(select(StaffUser).where(StaffUser.username == name)).first()
    if (
        user is None
        or not user.active
        or user.role is not Role.department
        or user.department_id != ctx.complaint.department_id
    ):
        raise InvalidInput(f"{name!r} is not a member of the filing's department")
    ctx.complaint.assignee_id = user.id
    ctx.session.add(ctx.complaint)
    return Effect(f"assigned to {name}", payload={"assignee": name})


def _note(ctx: Context) -> Effect:
    return Effect("internal note", None, {"text": ctx.body.text})


def _reply(ctx: Context) -> Effect:
    return Effect(
        "reply to the citizen", ctx.body.text, sms=("staff_reply", {"text": ctx.body.text[:200]})
    )


COMPLAINT, TIP, INQUIRY = (frozenset({k}) for k in (Kind.complaint, Kind.tip, Kind.inquiry))
SPECS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("claim", bodies.ClaimBody, None, _claim),
        ActionSpec("note", bodies.NoteBody, None, _note),
        ActionSpec("reply", bodies.ReplyBody, None, _reply),
        ActionSpec("accept", bodies.AcceptBody, S.accepted, _accept, COMPLAINT),
        ActionSpec("refuse", bodies.RefuseBody, S.refused, _refuse, COMPLAINT),
        ActionSpec("refer_to_odr", bodies.NoFields, S.odr, _refer_to_odr, COMPLAINT),
        ActionSpec("odr_settled", bodies.SettlementBody, S.closed, _odr_settled, COMPLAINT),
        ActionSpec("odr_failed", bodies.SummaryBody, S.routed, _odr_failed, COMPLAINT),
        ActionSpec("start_mediation", bodies.NoFields, S.mediating, _start_mediation, COMPLAINT),
        ActionSpec(
            "request_testing", bodies.TestingRequestBody, S.testing, _request_testing, COMPLAINT
        ),
        ActionSpec(
            "record_test_report", bodies.TestReportBody, S.mediating, _record_test_report, COMPLAINT
        ),
        ActionSpec(
            "mediation_succeeded", bodies.AgreementBody, S.resolved, _mediation_succeeded, COMPLAINT
        ),
        ActionSpec(
            "end_mediation", bodies.EndMediationBody, S.mediation_ended, _end_mediation, COMPLAINT
        ),
        ActionSpec("start_verification", bodies.NoFields, S.verifying, _start_verification, TIP),
        ActionSpec("open_case", bodies.OpenCaseBody, S.case_opened, _open_case, TIP),
        ActionSpec("not_open_case", bodies.NotOpenCaseBody, S.case_not_opened, _not_open_case, TIP),
        ActionSpec("decide", bodies.DecisionBody, S.decided, _decide, TIP),
        ActionSpec("ask_reporter", bodies.QuestionBody, None, _ask_reporter, TIP),
        ActionSpec("answer", bodies.AnswerBody, S.answered, _answer, INQUIRY),
        ActionSpec("close", bodies.SummaryBody, S.closed, _close),
    )
}
# Moves whose target other steps share: each belongs to one status only.
_ONLY_FROM = {
    "odr_settled": S.odr,
    "odr_failed": S.odr,
    "start_mediation": S.accepted,
    "record_test_report": S.testing,  # accepted → mediating is start_mediation's
}


def _applies(spec: ActionSpec, complaint: Complaint) -> bool:
    if complaint.kind not in spec.kinds:
        return False
    if spec.to is None:
        return complaint.status not in FINAL_STATUSES
    if spec.name in _ONLY_FROM and complaint.status is not _ONLY_FROM[spec.name]:
        return False
    if spec.name == "close" and complaint.status is S.odr:
        return False
    return spec.to in allowed_next(complaint.kind, complaint.status)


def allowed_actions(complaint: Complaint) -> list[str]:
    names = [name for name, spec in SPECS.items() if _applies(spec, complaint)]
    # Actions of their own elsewhere: routing.transfer (from the statuses it takes), cases.merge.
    if complaint.status in TRANSFERABLE:
        names.append("transfer")
    if S.merged in allowed_next(complaint.kind, complaint.status):
        names.append("merge")
    return names


def perform(
    session: Session, *, staff: Staff, complaint_id: int, action: str, body: dict[str, Any]
) -> Complaint:
    """Take `action` on the filing (caller commits): check, record, move, notify."""
    spec = SPECS.get(action)
    if spec is None:
        raise NotFound(f"no action {action!r}")
    complaint = visible_complaint(session, staff=staff, complaint_id=complaint_id)
    if staff.role not in _MAY_ACT:
        raise PermissionDenied("only department staff and supervisors act on filings")
    if not _applies(spec, complaint):
        raise Conflict(
            f"{action} is not possible for a {complaint.kind.value} "
            f"in status {complaint.status.value}",
            current_status=complaint.status.value,
            allowed_actions=allowed_actions(complaint),
        )
    try:
        parsed = spec.body.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": e["msg"]}
            for e in exc.errors()
        ]
        raise InvalidInput(
            "; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors=errors
        ) from exc
    ctx = Context(session, complaint, staff, parsed, current_policy())
    effect = spec.effect(ctx)
    actor = Actor.staff(staff.username, staff.id)
    payload = {"action": action, **effect.payload}
    if effect.outcome is not None:  # kept for a filing merged into this one later
        payload[OUTCOME_KEY] = effect.outcome
    public = effect.public_note is not None
    if spec.to is not None:
        transition(
            session,
            complaint=complaint,
            to_status=spec.to,
            actor=actor,
            reason=effect.reason,
            payload=payload,
            public=public,
            public_note=effect.public_note,
            changes=effect.changes or None,
        )
    else:
        record(
            session,
            complaint=complaint,
            actor=actor,
            reason=effect.reason,
            payload=payload,
            public=public,
            public_note=effect.public_note,
        )
    if effect.sms is not None:
        notify_citizen(session, complaint=complaint, template=effect.sms[0], fields=effect.sms[1])
    if effect.outcome is not None and spec.to is not None:
        tell_merged(
            session, survivor=complaint, outcome=Outcome(spec.to, effect.outcome), actor=actor
        )
    return complaint
