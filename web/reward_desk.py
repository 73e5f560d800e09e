"""Reward officers' pages under /staff/rewards: decided tip-offs, the reward file, the vault.

Thin handlers over the same services as the JSON API (rewards.desk, rewards.workflow,
rewards.vault): the pages collect answers, call the service and show what it computed.
Every step is audited as the API audits it; a refused step is shown in Chinese on the page.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from accounts.service import Staff
from cases import audit
from cases.policy import current_policy
from core.deps import SessionDep
from core.errors import Conflict, InvalidInput, NotFound, PlatformError
from rewards import desk, vault, workflow
from rewards.calculation import TIER_NAMES, Reporter, Violation, compute_award, yuan
from rewards.states import today
from schemas.enums import Role
from schemas.reporter import ReporterIdentityView, VaultReadRequest
from schemas.reward_api import (
    MAX_FEN,
    AmountSupersede,
    ApprovalCreate,
    DeskItem,
    PaymentCreate,
    RewardFile,
    RewardOpen,
    RewardState,
)
from web.errors import MESSAGES
from web.render import render
from web.security import CsrfChecked, PageStaff, require_page_role

router = APIRouter(prefix="/staff/rewards", include_in_schema=False)

ComplaintID = Annotated[int, Path(ge=1, le=2**62)]
RewardID = Annotated[int, Path(ge=1, le=2**62)]

STATES = {
    "none": "未办理",
    RewardState.proposed.value: "待批准",
    RewardState.refused.value: "不予奖励",
    RewardState.approved.value: "已批准，待发放",
    RewardState.paid.value: "已发放",
}
BADGES = {"none": "", "proposed": "warning", "refused": "overdue", "approved": "ok", "paid": "ok"}
# The eligibility questions (rewards.calculation.Reporter), and the answer that refuses.
QUESTIONS = [
    ("natural_person", "举报人是自然人吗？", "单位举报不予奖励", "no"),
    (
        "regulator_staff_or_duty_to_report",
        "举报人是市场监管部门工作人员，或负有举报职责的人员吗？",
        "是则不予奖励",
        "yes",
    ),
    ("harmed_party_or_agent", "举报人是受害人或其委托代理人吗？", "是则不予奖励", "yes"),
    ("paid_to_report", "举报人是为获取报酬而举报的吗？", "是则不予奖励", "yes"),
    ("information_already_known", "举报前市场监管部门已掌握该线索吗？", "是则不予奖励", "yes"),
]
METHODS = {"bank_transfer": "银行转账", "cash": "现金", "other": "其他"}
DONE = {
    "open": "已开立奖励档案。",
    "supersede": "已更正金额；新金额须重新经两名审核人员批准。",
    "approve": "已批准当前金额。",
    "payment": "已登记发放。",
}
EVENTS = {
    "opened": "开立奖励档案",
    "refused": "不予奖励",
    "amount_superseded": "更正奖励金额",
    "approved": "批准",
    "paid": "登记发放",
    "reporter_notified": "通知举报人",
}
# What each form field expects, in Chinese (web.forms.FIELD_HELP covers the filing forms).
FIELD_HELP = {
    "tier": "请选择奖励等级。",
    "reason": "请写明更正理由（2 到 500 字）。",
    "fines_fen": "罚款请填写不小于 0 的金额（元，最多两位小数）。",
    "confiscation_fen": "没收金额请填写不小于 0 的金额（元，最多两位小数）。",
    "note": "备注最多 500 字。",
    "method": "请选择发放方式。",
    "reference": "请填写转账回单号或收据号（最多 100 字）。",
    "paid_on": "请填写发放日期。",
    "finance_reference": "财政部门会签文号最多 100 字。",
    "amount_id": "金额已变化，请刷新页面后重试。",
    "form": "请至少修改奖励等级、罚款或没收金额中的一项。",
} | {name: "请回答这个问题（是或否）。" for name, *_ in QUESTIONS}
# The services' refusals, in Chinese: (words in the service's message, what the officer reads).
PROBLEMS = [
    ("already has a reward file", "这条举报已经开立了奖励档案。"),
    ("no decision yet", "这条举报还没有作出处罚决定，不能开立奖励。"),
    ("tip-offs (举报) only", "奖励只适用于举报。"),
    ("you already approved", "您已批准过当前金额，须由另一名奖励审核人员批准。"),
    ("two officers already approved", "两名审核人员已批准当前金额，请登记发放。"),
    ("not the reward's current amount", "金额刚被他人更正，请查看当前金额后再操作。"),
    ("needs the finance department", "奖励金额达到须会同财政部门审批的标准，请填写财政会签文号。"),
    ("paid_on cannot be in the future", "发放日期不能晚于今天。"),
    ("paid_on is before", "发放日期不能早于金额批准的日期。"),
    ("a payment needs", "发放前须由两名不同的奖励审核人员批准当前金额。"),
    ("nothing changes", "请至少修改奖励等级、罚款或没收金额中的一项。"),
    ("already paid", "该奖励已登记发放。"),
    ("cannot be paid", "该奖励当前状态下不能登记发放。"),
    ("cannot be approved", "该奖励当前状态下不能批准。"),
    ("amount cannot change", "已发放或不予奖励的，金额不能再更正。"),
    ("changed by someone else", "记录刚被他人更新，请刷新页面后再操作。"),
]


def _officer(request: Request, staff: Staff) -> None:
    request.state.staff = staff  # the header shows who is signed in, on the 403 page too
    require_page_role(staff, Role.reward_officer)


def _problem(exc: PlatformError) -> str:
    """A service's refusal as the officer should read it."""
    reasons = exc.extra.get("refusal_reasons")
    if reasons:
        return "按更正后的金额将不予奖励：" + "；".join(reasons) + "。"
    for words, message in PROBLEMS:
        if words in exc.detail:
            return message
    title, advice = MESSAGES.get(exc.status_code, MESSAGES[400])
    return f"{title}：{advice}"


def _messages(exc: ValidationError) -> dict[str, str]:
    """{field: Chinese message} for a request model's errors."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if not str(part).isdigit()]
        field = location[-1] if location and location[-1] in FIELD_HELP else "form"
        messages.setdefault(field, FIELD_HELP[field])
    return messages


def _fen(raw: object) -> int | None:
    """A yuan amount typed on a form (“12,000.50”) in fen; None if left empty."""
    text = str(raw or "").replace(",", "").replace("，", "").replace("元", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text) * 100
    except DecimalException:
        return -1  # not a number: refused by the request model, as a negative amount is
    if not value.is_finite() or value != value.to_integral_value():
        return -1  # more than two decimals
    return int(min(value, Decimal(MAX_FEN + 1)))


def _answer(raw: object) -> bool | None:
    return {"yes": True, "no": False}.get(str(raw or ""))


# ---- the desk -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def desk_page(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    state: Annotated[str | None, Query(max_length=20)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> Response:
    _officer(request, staff)
    state = state or None
    if state is not None and state not in STATES:
        raise InvalidInput("unknown reward state")
    page = desk.desk(session, staff=staff, state=state, after=after, limit=50)
    rows = [
        {
            "item": item,
            "state": STATES[item.reward_state or "none"],
            "badge": BADGES[item.reward_state or "none"],
            "href": f"/staff/rewards/{item.reward_id}"
            if item.reward_id
            else f"/staff/rewards/tipoffs/{item.complaint_id}/open",
            "link": "查看奖励档案" if item.reward_id else "办理奖励",
            "flags": _flags(item),
        }
        for item in page.data
    ]
    context = {
        "rows": rows,
        "states": STATES,
        "current": state,
        "next_after": page.next_after,
    }
    return render(request, "rewards/desk.html", context)


def _flags(item: DeskItem) -> list[str]:
    flags = [
        ("移送司法机关", item.crime_transferred),
        ("责令停产停业", item.business_suspended),
        ("吊销许可证件", item.licence_revoked),
    ]
    return [label for label, on in flags if on]


# ---- opening a reward ---------------------------------------------------------------------


def _decided_tip(session: Session, staff: Staff, complaint_id: int) -> DeskItem:
    """The desk's row of this tip-off (the desk lists decided tip-offs only)."""
    page = desk.desk(session, staff=staff, state=None, after=complaint_id - 1, limit=1)
    item = next((i for i in page.data if i.complaint_id == complaint_id), None)
    if item is None:
        raise NotFound("no decided tip-off with this id")
    return item


def _open_context(item: DeskItem, values: dict[str, str]) -> dict[str, Any]:
    rules = current_policy().rewards
    violation = Violation(fines_fen=item.penalty_fen, confiscation_fen=item.confiscation_fen)
    tiers = []
    for tier, rule in sorted(rules.tiers.items()):
        award = compute_award(violation, tier, rules)
        tiers.append(
            {
                "value": tier,
                "name": TIER_NAMES.get(tier, f"{tier}级"),
                "share": f"{rule.share_percent:g}%",
                "minimum": yuan(rule.minimum_fen),
                "amount": yuan(award.amount_fen),
            }
        )
    return {
        "item": item,
        "flags": _flags(item),
        "questions": QUESTIONS,
        "tiers": tiers,
        "cap": yuan(rules.cap_fen),
        "finance_from": yuan(rules.finance_signoff_from_fen),
        "major_fine": yuan(rules.major_violation_fine_fen),
        "values": values,
    }


@router.get("/tipoffs/{complaint_id}/open", response_class=HTMLResponse)
def open_form(
    complaint_id: ComplaintID, request: Request, session: SessionDep, staff: PageStaff
) -> Response:
    _officer(request, staff)
    item = _decided_tip(session, staff, complaint_id)
    if item.reward_id is not None:
        return RedirectResponse(f"/staff/rewards/{item.reward_id}", status_code=303)
    return render(request, "rewards/open.html", _open_context(item, {}))


@router.post("/tipoffs/{complaint_id}/open", response_class=HTMLResponse)
async def open_reward(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    _officer(request, staff)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    item = _decided_tip(session, staff, complaint_id)
    body = {
        "complaint_id": complaint_id,
        "reporter": {name: _answer(values.get(name)) for name, *_ in QUESTIONS},
        "tier": values.get("tier") or None,
    }
    try:
        asked = RewardOpen.model_validate(body)
        reward = workflow.open_reward(
            session,
            staff=staff,
            complaint_id=complaint_id,
            reporter=Reporter(**asked.reporter.model_dump()),
            tier=asked.tier,
        )
        audit.audit(session, staff=staff, action="reward:open", complaint_id=complaint_id)
        session.commit()
    except ValidationError as exc:
        context = _open_context(item, values) | {"messages": _messages(exc)}
        return render(request, "rewards/open.html", context, status_code=422)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        context = _open_context(item, values) | {
            "error": _problem(exc),
            "existing": exc.extra.get("reward_id"),
        }
        return render(request, "rewards/open.html", context, status_code=exc.status_code)
    return RedirectResponse(f"/staff/rewards/{reward.id}?done=open", status_code=303)


# ---- the reward file ----------------------------------------------------------------------


def _file_context(view: RewardFile, staff: Staff) -> dict[str, Any]:
    """Everything the file page shows, decided here so that the template only displays."""
    current = view.current_amount
    mine = any(
        a.officer == staff.username and current is not None and a.amount_id == current.id
        for a in view.approvals
    )
    state = view.state
    approvals_done = workflow.APPROVALS_NEEDED - view.approvals_needed if current else 0
    answers = view.eligibility.get("reporter", {})
    return {
        "view": view,
        "state_label": STATES[state.value],
        "badge": BADGES[state.value],
        "current": current,
        "superseded": [a for a in view.amounts if not a.current],
        "approvals": [
            {"a": a, "voided": current is None or a.amount_id != current.id} for a in view.approvals
        ],
        "approvals_done": approvals_done,
        "approvals_total": workflow.APPROVALS_NEEDED,
        "already_approved": mine and state is RewardState.proposed,
        "can_approve": state is RewardState.proposed and current is not None and not mine,
        "can_supersede": state in (RewardState.proposed, RewardState.approved),
        "can_pay": state is RewardState.approved,
        "answers": [
            (question, "是" if answers.get(name) else "否") for name, question, *_ in QUESTIONS
        ],
        "tiers": [(t, TIER_NAMES.get(t, f"{t}级")) for t in sorted(current_policy().rewards.tiers)],
        "methods": METHODS,
        "method_label": METHODS.get(view.payment.method, "") if view.payment else "",
        "today": today().isoformat(),
        "approve_values": {},
        "payment_values": {"paid_on": today().isoformat()},
        "supersede_values": {},
        "events": [
            {
                "e": e,
                "label": EVENTS.get(e.action, e.action),
                "actor": _actor(e.actor),
                "note": _event_note(e.payload),
            }
            for e in view.events
        ],
    }


def _actor(name: str) -> str:
    """ "staff:ro1" → "ro1"; the platform's own steps → "系统"."""
    kind, _, who = name.partition(":")
    return who if kind == "staff" and who else "系统"


def _event_note(payload: dict[str, Any]) -> str:
    """One line on what a history entry recorded."""
    if "reasons" in payload:
        return "；".join(payload["reasons"])
    if "reason" in payload:
        return f"理由：{payload['reason']}；新金额 {yuan(payload.get('amount_fen') or 0)}"
    if "approvals" in payload:
        return f"当前金额已有 {payload['approvals']} 人批准"
    if "sms" in payload:
        return "已短信告知举报人" if payload["sms"] else "举报人未留电话，未发短信"
    if "amount_fen" in payload:
        return yuan(payload["amount_fen"])
    return ""


def _file_page(
    request: Request,
    session: Session,
    staff: Staff,
    reward_id: int,
    *,
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
    private: bool = False,
) -> Response:
    view = desk.reward_file(session, staff=staff, reward_id=reward_id)
    context = _file_context(view, staff) | (extra or {})
    return render(request, "rewards/file.html", context, status_code=status_code, private=private)


@router.get("/{reward_id}", response_class=HTMLResponse)
def reward_file(
    reward_id: RewardID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    done: str | None = None,
) -> Response:
    _officer(request, staff)
    view = desk.reward_file(session, staff=staff, reward_id=reward_id)
    audit.audit(session, staff=staff, action="reward:view", complaint_id=view.complaint_id)
    session.commit()
    context = _file_context(view, staff) | {"notice": DONE.get(done or "")}
    return render(request, "rewards/file.html", context)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _step(
    request: Request,
    session: Session,
    staff: Staff,
    reward_id: int,
    *,
    form_name: str,
    values: dict[str, str],
    model: type[AmountSupersede | ApprovalCreate | PaymentCreate],
    body: dict[str, Any],
    action: str,
) -> Response:
    """Validate, call the workflow step, audit and commit; or the file again with the message."""
    try:
        asked = model.model_validate(body)
        complaint_id = _call(session, staff, reward_id, asked)
        audit.audit(session, staff=staff, action=f"reward:{action}", complaint_id=complaint_id)
        session.commit()
    except ValidationError as exc:
        extra: dict[str, Any] = {
            f"{form_name}_messages": _messages(exc),
            f"{form_name}_values": values,
        }
        return _file_page(request, session, staff, reward_id, status_code=422, extra=extra)
    except (Conflict, InvalidInput) as exc:
        session.rollback()
        extra = {f"{form_name}_error": _problem(exc), f"{form_name}_values": values}
        return _file_page(
            request, session, staff, reward_id, status_code=exc.status_code, extra=extra
        )
    done = action.removesuffix("_amount")
    return RedirectResponse(f"/staff/rewards/{reward_id}?done={done}", status_code=303)


def _call(
    session: Session,
    staff: Staff,
    reward_id: int,
    asked: AmountSupersede | ApprovalCreate | PaymentCreate,
) -> int:
    """The workflow step for the request model; returns the tip-off's id, for the audit."""
    if isinstance(asked, AmountSupersede):
        reward = workflow.supersede_amount(
            session,
            staff=staff,
            reward_id=reward_id,
            reason=asked.reason,
            tier=asked.tier,
            fines_fen=asked.fines_fen,
            confiscation_fen=asked.confiscation_fen,
        )
    elif isinstance(asked, ApprovalCreate):
        reward = workflow.approve_amount(
            session, staff=staff, reward_id=reward_id, amount_id=asked.amount_id, note=asked.note
        )
    else:
        reward = workflow.record_payment(
            session,
            staff=staff,
            reward_id=reward_id,
            amount_id=asked.amount_id,
            method=asked.method,
            reference=asked.reference,
            paid_on=asked.paid_on,
            finance_reference=asked.finance_reference,
        )
    return reward.complaint_id


@router.post("/{reward_id}/amounts", response_class=HTMLResponse)
async def supersede(
    reward_id: RewardID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    _officer(request, staff)
    values = await _form(request)
    body = {
        "reason": values.get("reason", ""),
        "tier": values.get("tier") or None,
        "fines_fen": _fen(values.get("fines_yuan")),
        "confiscation_fen": _fen(values.get("confiscation_yuan")),
    }
    return _step(
        request,
        session,
        staff,
        reward_id,
        form_name="supersede",
        values=values,
        model=AmountSupersede,
        body=body,
        action="supersede_amount",
    )


@router.post("/{reward_id}/approvals", response_class=HTMLResponse)
async def approve(
    reward_id: RewardID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    _officer(request, staff)
    values = await _form(request)
    body = {"amount_id": values.get("amount_id"), "note": values.get("note") or None}
    return _step(
        request,
        session,
        staff,
        reward_id,
        form_name="approve",
        values=values,
        model=ApprovalCreate,
        body=body,
        action="approve",
    )


@router.post("/{reward_id}/payment", response_class=HTMLResponse)
async def record_payment(
    reward_id: RewardID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    _officer(request, staff)
    values = await _form(request)
    body = {
        "amount_id": values.get("amount_id"),
        "method": values.get("method") or None,
        "reference": values.get("reference", ""),
        "paid_on": values.get("paid_on") or None,
        "finance_reference": values.get("finance_reference") or None,
    }
    return _step(
        request,
        session,
        staff,
        reward_id,
        form_name="payment",
        values=values,
        model=PaymentCreate,
        body=body,
        action="payment",
    )


# ---- the vault ----------------------------------------------------------------------------


@router.post("/{reward_id}/vault", response_class=HTMLResponse)
async def open_vault(
    reward_id: RewardID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """The reporter's identity, masked, for a stated reason; every opening is audited."""
    _officer(request, staff)
    values = await _form(request)
    view = desk.reward_file(session, staff=staff, reward_id=reward_id)
    identity: ReporterIdentityView | None = None
    problem, status = None, 200
    try:
        asked = VaultReadRequest.model_validate({"reason": values.get("reason", "")})
        identity = vault.read(
            session, staff=staff, complaint_id=view.complaint_id, reason=asked.reason
        )
    except (ValidationError, InvalidInput):
        problem, status = "请写明查看举报人身份的事由（至少 4 个字），未写明事由不能查看。", 422
    except NotFound:
        problem, status = "这条举报是匿名举报，或身份信息已按期清除，没有可查看的身份。", 404
    extra = {"identity": identity, "vault_error": problem, "vault_reason": values.get("reason")}
    if request.headers.get("HX-Request"):
        # htmx swaps only successful answers: the fragment carries its own message.
        context = {"view": view} | extra
        return render(request, "rewards/_vault.html", context, private=True)
    return _file_page(
        request, session, staff, reward_id, status_code=status, extra=extra, private=True
    )
