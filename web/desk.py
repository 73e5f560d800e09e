"""The department desk under /staff/desk: the queue and one filing with the actions it allows.

Thin handlers over the services the JSON API uses (cases.api, routing.api): cases.service
(the queue and who may see what), cases.views (the filing, the audited contact number and
attachments), cases.actions (`SPECS`, `perform`), routing.transfer and cases.merge. Each
action's form is built from its body model's fields (schemas.actions); the reason codes come
from the policy. A refused step is shown in Chinese next to its form; nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from accounts.service import Staff
from cases import actions, audit, repository, service, views
from cases.merge import dismiss, merge
from cases.policy import current_policy
from core.deps import SessionDep
from core.errors import Conflict, InvalidInput, NotFound, PlatformError
from intake.attachments import PayloadTooLarge, UnsupportedMediaType, path_for, store_upload
from intake.service import find_by_tracking_number
from intake.tracking_number import display_tracking_number
from rewards.calculation import yuan
from routing.engine import current_engine
from routing.jurisdiction import ground_note, where_to_go
from routing.repository import active_departments
from routing.transfer import transfer
from schemas.complaint import Complaint, ComplaintStaffView, QueueItem
from schemas.enums import KIND_LABELS, STATUS_LABELS, Kind, Role, Status
from schemas.event import EventStaffView
from schemas.routing import DismissRequest, MergeRequest, TransferRequest
from web.errors import MESSAGES
from web.render import render
from web.security import CsrfChecked, PageStaff, require_page_role

router = APIRouter(prefix="/staff/desk", include_in_schema=False)

ComplaintID = Annotated[int, Path(ge=1, le=2**62)]
PAGE_SIZE = 50
BADGES = {"ok": "正常", "warning": "即将到期", "overdue": "已超期"}
DEADLINE_FILTERS = {"soon": "即将到期和已超期", "overdue": "已超期"}
SORTS = {"deadline": "期限最近的在前", "oldest": "登记最早的在前"}
STEPS = {
    "accept_decision": "决定是否受理",
    "odr": "经营者先行和解",
    "mediation": "调解",
    "mediation_end_notice": "告知终止调解",
    "tip_verification": "核查举报线索、决定是否立案",
    "case_decision": "立案后作出处理决定",
    "inquiry_answer": "答复咨询",
}
CLOCK_STATES = {
    "active": "计时中",
    "paused": "暂停计时",
    "met": "已按期办理",
    "breached": "已超期",
}
DUPLICATE_STATES = {"suggested": "待确认", "merged": "已合并", "dismissed": "已确认不是同一事项"}
PAYERS = {
    "complainant": "投诉人",
    "business": "被投诉人",
    "shared": "双方分担",
    "regulator": "市场监督管理部门",
}
OUTCOMES = {"conforming": "检验合格", "nonconforming": "检验不合格", "inconclusive": "无法判定"}
CHANNELS = {"web": "网上提交", "sms": "短信", "hotline": "12315 电话", "open311": "开放接口"}

# Each action: its title (also the button), and what the citizen learns of it.
ACTIONS: dict[str, tuple[str, str]] = {
    "accept": ("受理", "群众在查询页看到“投诉已受理”，并收到短信。"),
    "refuse": ("不予受理", "理由和说明显示在群众的查询页，并以短信告知。"),
    "refer_to_odr": ("转经营者先行和解（ODR）", "群众看到已转经营者和解及期限。"),
    "odr_settled": ("经营者已和解，办结", "和解结果显示在查询页，并以短信告知。"),
    "odr_failed": ("和解未成，收回办理", "群众看到经营者未能和解、转由本部门处理。"),
    "start_mediation": ("开始调解", "群众看到“开始调解”。"),
    "request_testing": (
        "委托质量仲裁检验",
        "群众看到检验机构和预计出报告日期；检验期间调解期限暂停计时。",
    ),
    "record_test_report": ("登记检验报告", "群众看到检验结论和提出异议的截止日期。"),
    "mediation_succeeded": ("调解成功", "调解结果显示在查询页，并以短信告知。"),
    "end_mediation": ("终止调解", "终止理由和说明显示在查询页，并以短信告知。"),
    "start_verification": ("开始核查", "举报人凭回执码看到“正在核查”。"),
    "open_case": ("立案", "举报人凭回执码看到“已立案调查”。"),
    "not_open_case": ("不予立案", "举报人凭回执码看到不予立案及理由。"),
    "decide": ("作出处理决定", "举报人看到“已依法作出处理决定”；金额只在内部记录。"),
    "ask_reporter": ("向举报人提问", "问题显示在举报人的回执码查询页；留了电话的发短信提醒。"),
    "answer": ("答复咨询", "答复显示在查询页，并以短信发送。"),
    "close": ("办结", "办结情况显示在查询页，并以短信告知。"),
    "note": ("添加内部备注", "只在内部可见，群众看不到。"),
    "reply": ("答复群众", "显示在群众的查询页，并以短信发送。"),
    "claim": ("认领或指派承办人", "内部记录，群众看不到。"),
}
# Where each action's form goes: the filing's next steps, what is said, who handles it.
SECTIONS = (
    ("办理", [n for n in actions.SPECS if actions.SPECS[n].to is not None]),
    ("内部备注与答复群众", ["note", "reply", "ask_reporter"]),
    ("承办人", ["claim"]),
)
# (action, field) or field → (label, hint).
LABELS: dict[tuple[str, str] | str, tuple[str, str]] = {
    ("note", "text"): ("内部备注", "只在内部可见，群众看不到"),
    ("reply", "text"): ("答复内容", "群众在查询页看到，并以短信发送"),
    "assignee": ("指派给", "本部门同事的用户名；不填即由您本人承办"),
    "note": ("受理意见", "内部记录"),
    ("refuse", "reason_code"): ("不予受理的理由", ""),
    ("end_mediation", "reason_code"): ("终止调解的理由", ""),
    "explanation": ("具体说明", "告知群众"),
    "summary": ("办理情况", "告知群众"),
    ("odr_settled", "summary"): ("和解结果", "告知群众"),
    ("odr_failed", "summary"): ("未能和解的情况", "内部记录"),
    ("record_test_report", "summary"): ("报告摘要", "告知群众"),
    ("decide", "summary"): ("处理决定摘要", "内部记录"),
    "lab": ("检验机构", "具备资质的检验机构名称"),
    "sample": ("样品", "样品名称、数量和封存情况"),
    "basis": ("检验依据", "依次为：强制性标准、双方约定的标准、经营者明示的质量状况"),
    "items": ("检验项目", "每行一项"),
    "fee_fen": ("检验费用（元）", ""),
    "payer": ("费用承担方", ""),
    "payment_timing": ("付费方式和时间", "例如：出具报告前由被投诉人支付"),
    "due_on": ("预计出具报告日期", ""),
    "outcome": ("检验结论", ""),
    "attachment": ("检验报告文件", "PDF 或图片，不超过 10 MB，可不上传"),
    "agreement": ("调解协议内容", "告知群众"),
    "recovered_fen": ("挽回经济损失（元）", "退款、赔偿等群众实际得到的金额；没有则填 0"),
    "case_number": ("立案编号", ""),
    "reason": ("不予立案的理由", "告知举报人"),
    "decision_number": ("处罚决定书文号", ""),
    "penalty_fen": ("罚款（元）", ""),
    "confiscation_fen": ("没收违法所得（元）", "没有则填 0"),
    "crime_transferred": ("移送司法机关", ""),
    "business_suspended": ("责令停产停业", ""),
    "licence_revoked": ("吊销许可证件", ""),
    "question": ("向举报人提出的问题", "显示在举报人的回执码查询页"),
    "answer": ("答复内容", "群众在查询页看到，并以短信发送"),
}
# What each field expects, said in Chinese whatever rule it broke.
HELP = {
    "text": "请填写 2 到 2000 字。",
    "assignee": "请填写本部门同事的用户名，或留空由您本人承办。",
    "note": "受理意见为 2 到 2000 字，也可以不填。",
    "reason_code": "请从列表中选择理由。",
    "explanation": "请写明具体说明（2 到 2000 字）。",
    "summary": "请填写 2 到 2000 字。",
    "lab": "请填写检验机构名称（最多 200 字）。",
    "sample": "请写明样品（2 到 2000 字）。",
    "basis": "请写明检验依据（2 到 2000 字）。",
    "items": "请至少填写一个检验项目，每行一项（每项最多 200 字，最多 50 项）。",
    "fee_fen": "请填写不小于 0 的金额（元，最多两位小数）。",
    "payer": "请选择费用承担方。",
    "payment_timing": "请写明付费方式和时间（最多 200 字）。",
    "due_on": "请填写预计出具报告的日期。",
    "outcome": "请选择检验结论。",
    "attachment": "检验报告文件无法使用：请上传 PDF 或 JPG、PNG、GIF、WebP 图片，不超过 10 MB。",
    "agreement": "请写明调解协议内容（2 到 2000 字）。",
    "recovered_fen": "请填写不小于 0 的金额（元，最多两位小数）；没有挽回经济损失的填 0。",
    "case_number": "请填写立案编号（最多 200 字）。",
    "reason": "请写明理由（2 到 2000 字）。",
    "decision_number": "请填写处罚决定书文号（最多 200 字）。",
    "penalty_fen": "请填写不小于 0 的罚款金额（元，最多两位小数）。",
    "confiscation_fen": "请填写不小于 0 的没收金额（元，最多两位小数）。",
    "question": "请写明问题（2 到 2000 字）。",
    "answer": "请写明答复内容（2 到 2000 字）。",
    "form": "请检查填写的内容。",
}
TRANSFER_HELP = {
    "department": "请从列表中选择要转去的部门（不能是当前承办部门）。",
    "reason": "请写明转办理由（2 到 500 字）。",
    "form": "请检查填写的内容。",
}
MERGE_HELP = {
    "into": "没有找到这个受理编号，或这件不属于您可以办理的范围。",
    "reason": "请写明合并理由（2 到 500 字）。",
    "form": "这两件不能合并，请核对受理编号。",
}
# The services' refusals a form can mend, by words in their message → the field they are about.
MENTIONS = {
    "reason_code": "reason_code",
    "not a member of the filing's department": "assignee",
    "attachment": "attachment",
}
DONE = {name: f"已办理：{title}。" for name, (title, _) in ACTIONS.items()} | {
    "note": "已添加内部备注。",
    "reply": "已答复群众。",
    "transfer": "已转办。",
    "merge": "已合并办理。",
    "dismiss": "已确认不是同一事项。",
    "transfer-away": "已转办，这件已离开本部门的队列。",
}


@dataclass(frozen=True)
class FormField:
    """One input of an action's form, derived from the action body's field."""

    name: str
    label: str
    hint: str
    widget: str  # text | textarea | lines | select | date | yuan | checkbox | file
    required: bool
    max_length: int | None = None
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ActionForm:
    name: str
    title: str
    public: str
    fields: tuple[FormField, ...]
    multipart: bool


def _desk_staff(request: Request, staff: Staff) -> None:
    request.state.staff = staff  # the header shows who is signed in, on the 403 page too
    require_page_role(staff, Role.department, Role.supervisor, Role.admin)


# ---- the queue ----------------------------------------------------------------------------


def _place_prefix(session: Session, typed: str) -> str | None:
    """An administrative code prefix (14, 1401, 140105) or a place name (太原市小店区)."""
    if re.fullmatch(r"\d{2,6}", typed):
        return typed
    place = current_engine(session).places.locate(typed)
    if place is None or not place.code:
        return None
    if place.level == "county":
        return place.code
    if place.level == "city" and place.code[2:4] != "00":
        return place.code[:4]
    return place.code[:2]


def _place(province: str | None, city: str | None, county: str | None) -> str:
    """山西省太原市小店区; a municipality is its own city (北京市东城区)."""
    return "".join(p for p in (province, city if city != province else None, county) if p)


def _queue_rows(
    session: Session, items: Sequence[QueueItem], department_names: dict[int, str]
) -> list[dict[str, Any]]:
    """The queue's rows with the place and department named (the queue item has codes)."""
    ids = [item.id for item in items]
    named: dict[int, tuple[str, str]] = {}
    if ids:
        for row in session.exec(select(Complaint).where(col(Complaint.id).in_(ids))):
            place = _place(row.place_province, row.place_city, row.place_county)
            named[row.id or 0] = (place, department_names.get(row.department_id or 0, ""))
    return [
        {
            "item": item,
            "place": named.get(item.id, ("", ""))[0],
            "department": named.get(item.id, ("", ""))[1],
            "badge_label": BADGES.get(item.deadline_badge or "", ""),
        }
        for item in items
    ]


@router.get("", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    status: Annotated[str, Query(max_length=40)] = "",
    deadline: Annotated[str, Query(max_length=20)] = "",
    place: Annotated[str, Query(max_length=60)] = "",
    sort: Annotated[str, Query(max_length=20)] = "deadline",
    department: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str, Query(max_length=40)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    _desk_staff(request, staff)
    everyone = staff.role in {Role.supervisor, Role.admin}
    departments = active_departments(session)
    chosen = {
        "status": status.strip(),
        "deadline": deadline.strip(),
        "place": place.strip(),
        "sort": sort.strip() or "deadline",
        "department": department.strip() if everyone else "",
    }
    problems: list[str] = []
    if chosen["status"] and chosen["status"] not in STATUS_LABELS:
        problems.append("请从列表中选择状态。")
    if chosen["deadline"] and chosen["deadline"] not in DEADLINE_FILTERS:
        problems.append("请从列表中选择期限。")
    if chosen["sort"] not in SORTS:
        problems.append("请从列表中选择排序方式。")
    if chosen["department"] and chosen["department"] not in {d.code for d in departments}:
        problems.append("请从列表中选择承办部门。")
    prefix = _place_prefix(session, chosen["place"]) if chosen["place"] else None
    if chosen["place"] and prefix is None:
        problems.append(
            "没有认出这个地区：请填写省、市、区县名称（如“太原市小店区”）或行政区划代码。"
        )
    context: dict[str, Any] = {
        "chosen": chosen,
        "everyone": everyone,
        "statuses": list(STATUS_LABELS.items()),
        "deadlines": DEADLINE_FILTERS,
        "sorts": SORTS,
        "departments": [(d.code, d.name) for d in departments],
        "own_department": next(
            (d.name for d in departments if d.code == staff.department_code), ""
        ),
        "notice": DONE.get(done),
        "problems": problems,
        "rows": [],
        "next_href": None,
    }
    if problems:
        return render(request, "desk/queue.html", context, status_code=422)
    filters = service.QueueFilters(
        statuses=[Status(chosen["status"])] if chosen["status"] else [],
        deadline=chosen["deadline"] or None,
        place=prefix,
        sort=chosen["sort"],
    )
    page = service.queue(
        session,
        staff=staff,
        department_code=chosen["department"] or None,
        filters=filters,
        cursor=cursor.strip() or None,
        limit=PAGE_SIZE,
    )
    names = {d.id: d.name for d in departments if d.id is not None}
    context["rows"] = _queue_rows(session, page.data, names)
    if page.next_cursor:
        kept = {k: v for k, v in chosen.items() if v}
        context["next_href"] = "/staff/desk?" + urlencode(kept | {"cursor": page.next_cursor})
    return render(request, "desk/queue.html", context)


# ---- the action forms, from the action bodies ---------------------------------------------


def _choices(action: str, name: str, annotation: Any) -> tuple[tuple[str, str], ...]:
    policy = current_policy()
    if name == "reason_code":
        codes = policy.refusal_grounds if action == "refuse" else policy.mediation_end_reasons
        return tuple(codes.items())
    labels = PAYERS if name == "payer" else OUTCOMES
    return tuple((value, labels.get(value, value)) for value in get_args(annotation))


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The field's type without `| None`, and the constraints written on it."""
    metadata: list[Any] = []
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation, *metadata = get_args(annotation)
    return annotation, metadata


def _field(action: str, name: str, info: FieldInfo) -> FormField:
    annotation, extra = _unwrap(info.annotation)
    constraints = [*info.metadata, *extra]
    max_length = next(
        (getattr(c, "max_length", None) for c in constraints if getattr(c, "max_length", None)),
        None,
    )
    label, hint = LABELS.get((action, name)) or LABELS.get(name) or (name, "")
    options: tuple[tuple[str, str], ...] = ()
    if annotation is bool:
        widget = "checkbox"
    elif annotation is dt.date:
        widget = "date"
    elif name == "reason_code" or get_origin(annotation) is Literal:
        widget, options = "select", _choices(action, name, annotation)
    elif get_origin(annotation) is list:
        widget = "lines"
    elif name.endswith("_fen"):
        widget = "yuan"
    elif name == "attachment":
        widget = "file"
    else:
        widget = "textarea" if (max_length or 0) > 200 else "text"
    return FormField(
        name=name,
        label=label,
        hint=hint,
        widget=widget,
        required=info.is_required(),
        max_length=max_length if widget in {"text", "textarea"} else None,
        options=options,
    )


def action_form(name: str) -> ActionForm:
    body: type[BaseModel] = actions.SPECS[name].body
    fields = tuple(_field(name, field, info) for field, info in body.model_fields.items())
    title, public = ACTIONS.get(name, (name, ""))
    return ActionForm(
        name=name,
        title=title,
        public=public,
        fields=fields,
        multipart=any(f.widget == "file" for f in fields),
    )


def _fen(raw: str) -> int | None:
    """A yuan amount typed on a form (“1,500.00”) in fen; None if left empty."""
    text = raw.replace(",", "").replace("，", "").replace("元", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text) * 100
    except DecimalException:
        return -1  # not a number: refused by the body model, as a negative amount is
    if not value.is_finite() or value != value.to_integral_value():
        return -1
    return int(min(value, Decimal(10**13 + 1)))


async def _form_values(request: Request) -> tuple[dict[str, str], dict[str, UploadFile]]:
    form = await request.form()
    values = {
        k: v.strip() for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"
    }
    files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile) and v.filename}
    return values, files


def _body(
    session: Session, form: ActionForm, values: dict[str, str], files: dict[str, UploadFile]
) -> dict[str, Any]:
    """The action's body from the form: only its own fields; empty ones left out."""
    body: dict[str, Any] = {}
    for field in form.fields:
        raw = values.get(field.name, "")
        if field.widget == "checkbox":
            body[field.name] = bool(raw)
        elif field.widget == "file":
            upload = files.get(field.name)
            if upload is not None:
                body[field.name] = store_upload(session, stream=upload.file).token
        elif field.widget == "lines":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if lines:
                body[field.name] = lines
        elif field.widget == "yuan":
            if raw:
                body[field.name] = _fen(raw)
        elif raw:
            body[field.name] = raw
    return body


def _messages(exc: PlatformError | ValidationError, helps: dict[str, str]) -> dict[str, str]:
    """{field: Chinese message} for a body the model or the service refused."""
    if isinstance(exc, ValidationError):
        located = [[str(p) for p in e.get("loc", ())] for e in exc.errors()]
        fields = [loc[0] if loc else "form" for loc in located]
    elif exc.extra.get("errors"):
        fields = [str(e.get("field", "")).split(".")[0] for e in exc.extra["errors"]]
    else:
        found = next((field for words, field in MENTIONS.items() if words in exc.detail), "form")
        fields = [found]
    messages: dict[str, str] = {}
    for field in fields:
        key = field if field in helps else "form"
        messages.setdefault(key, helps[key])
    return messages


def _problem(exc: PlatformError) -> str:
    title, advice = MESSAGES.get(exc.status_code, MESSAGES[400])
    return f"{title}：{advice}"


# ---- one filing ---------------------------------------------------------------------------


def _percent(score: Any) -> int | None:
    return round(float(score) * 100) if isinstance(score, int | float) else None


def _routing(payload: dict[str, Any] | None, names: dict[str, str]) -> dict[str, Any] | None:
    """The router's decision as staff read it: where, how sure, the top 3 and why."""
    if not payload:
        return None
    kind = payload.get("kind") or {}
    place = payload.get("place") or {}
    return {
        "department": names.get(payload.get("department") or "", payload.get("department")),
        "percent": _percent(payload.get("score")),
        "threshold": _percent(payload.get("threshold")),
        "reasons": payload.get("reasons") or [],
        "classifier": " ".join(
            str(payload[k]) for k in ("classifier", "version") if payload.get(k)
        ),
        "top": [
            {
                "name": names.get(choice.get("department") or "", choice.get("label")),
                "percent": _percent(choice.get("score")),
                "reasons": choice.get("reasons") or [],
            }
            for choice in (payload.get("top") or [])[:3]
        ],
        "place": place.get("label"),
        "place_matched": place.get("matched") or [],
        "jurisdiction": ground_note(payload.get("jurisdiction")),
        "kind": KIND_LABELS.get(Kind(kind["detected"])) if kind.get("detected") else None,
        "kind_percent": _percent(kind.get("confidence")),
        "kind_reasons": kind.get("reasons") or [],
    }


def _actor(name: str) -> str:
    kind, _, who = name.partition(":")
    if kind == "staff" and who:
        return who
    if kind == "citizen":
        return "群众"
    return "系统（自动分派）" if who == "router" else "系统"


# What an event's payload records that the citizen was not told, as staff read it.
PAYLOAD_LINES = {
    "text": "",
    "note": "受理意见：",
    "assignee": "承办人：",
    "to_department": "转至",
    "survivor": "并入受理编号 ",
    "duplicate": "并入本件的受理编号 ",
    "case_number": "立案编号：",
    "decision_number": "处罚决定书文号：",
    "penalty_fen": "罚款：",
    "confiscation_fen": "没收违法所得：",
    "fee_fen": "检验费用：",
    "missing": "缺少必要信息：",
    "supplied": "已补充：",
}
# What a filing came in without (intake.service.create_filing: an SMS complaint's name).
MISSING_LABELS = {"complainant_name": "投诉人姓名（投诉须实名，请联系投诉人补充）"}
SUPPLIED_LABELS = {"complainant_name": "投诉人姓名"}
_WRITTEN = re.compile(r"[\u4e00-\u9fff]")  # a reason a person wrote (the services' are English)


def _shown(key: str, value: Any, names: dict[str, str]) -> str:
    if key.endswith("_fen") and isinstance(value, int):
        return yuan(value)
    if key in {"survivor", "duplicate"}:
        return display_tracking_number(str(value))
    if key == "to_department":
        return names.get(str(value), str(value))
    if key == "missing" and isinstance(value, list):
        return "、".join(MISSING_LABELS.get(str(field), str(field)) for field in value)
    if key == "supplied" and isinstance(value, list):
        return "、".join(SUPPLIED_LABELS.get(str(field), str(field)) for field in value)
    return str(value)


def _history(
    events: list[EventStaffView], notes: dict[int, str | None], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Newest first; what the citizen saw (public) apart from what stayed internal."""
    rows = []
    for event in reversed(events):
        action = event.payload.get("action")
        if action in ACTIONS:
            title = ACTIONS[action][0]
        elif event.to_status is not None and event.to_status != event.from_status:
            title = f"状态变为“{STATUS_LABELS[event.to_status]}”"
        else:
            title = "记录"
        internal = [event.reason] if _WRITTEN.search(event.reason) else []  # typed by staff
        for key, value in event.payload.items():
            if key in PAYLOAD_LINES and value not in (None, ""):
                internal.append(PAYLOAD_LINES[key] + _shown(key, value, names))
        rows.append(
            {
                "e": event,
                "title": title,
                "actor": _actor(event.actor),
                "public_note": notes.get(event.id) if event.public else None,
                "internal": [line for line in internal if line],
            }
        )
    return rows


def _filing_context(
    session: Session, view: ComplaintStaffView, staff: Staff, extra: dict[str, Any]
) -> dict[str, Any]:
    """Everything the filing page shows, decided here so that the template only displays."""
    departments = active_departments(session)
    names = {d.code: d.name for d in departments}
    notes = {e.id: e.public_note for e in repository.history(session, view.id) if e.id}
    allowed = set(view.allowed_actions)
    sections = [
        (title, [action_form(n) for n in names_ if n in allowed and n in actions.SPECS])
        for title, names_ in SECTIONS
    ]
    attachments = {a.id: a for a in view.attachments}
    tests = []
    for test in view.arbitration_tests:
        report = attachments.get(test.get("report_attachment_id") or 0)
        tests.append(
            {
                "t": test,
                "payer": PAYERS.get(test.get("payer") or "", test.get("payer")),
                "outcome": OUTCOMES.get(test.get("outcome") or "", ""),
                "report": report,
            }
        )
    current = view.department.code if view.department else None
    return {
        "view": view,
        "badge_label": BADGES.get(view.deadline_badge or "", ""),
        "channel": CHANNELS.get(view.channel.value, view.channel.value),
        "place": _place(view.place_province, view.place_city, view.place_county),
        "routing": _routing(view.routing, names),
        "deadlines": [
            {
                "d": d,
                "step": STEPS.get(d.step, d.step),
                "state": CLOCK_STATES.get(d.state, d.state),
                "badge_label": BADGES.get(d.badge or "", ""),
            }
            for d in view.deadlines
        ],
        "tests": tests,
        "tip_case": view.tip_case,
        "duplicates": [
            {
                "d": d,
                "state": DUPLICATE_STATES.get(d.state, d.state),
                "percent": _percent(d.similarity),
            }
            for d in view.duplicates
        ],
        "can_merge": "merge" in allowed,
        "can_transfer": "transfer" in allowed,
        "transfer_to": [(d.code, d.name) for d in departments if d.code != current],
        "sections": [(title, forms) for title, forms in sections if forms],
        "history": _history(view.history, notes, names),
        "is_tip": view.kind is Kind.tip,
        "is_complaint": view.kind is Kind.complaint,
        # The complainant's name and address, as the full number: the view leaves them out
        # for anyone else, and the page does not say "未填写" where it only hides them.
        "reads_complainant": staff.role in views.CONTACT_READERS,
        "staff_department": staff.department_code,
        "errors": {},
        "values": _filled_in(view.routing, allowed),
        "problems": {},
    } | extra


# The refusal ground for "this office has no jurisdiction" in the policy's refusal_grounds.
NO_JURISDICTION = "not_in_duties"


def _filled_in(routing: dict[str, Any] | None, allowed: set[str]) -> dict[str, dict[str, str]]:
    """Forms filled in for staff to check and send: a filing whose place lies outside the
    province gets its refusal for lack of jurisdiction, saying where to go instead."""
    advice = where_to_go(routing)
    if advice is None or "refuse" not in allowed:
        return {}
    if NO_JURISDICTION not in current_policy().refusal_grounds:
        return {}
    return {"refuse": {"reason_code": NO_JURISDICTION, "explanation": advice}}


def _filing_page(
    request: Request,
    session: Session,
    staff: Staff,
    complaint_id: int,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
    audited: bool = False,
) -> Response:
    view = views.staff_view(session, staff=staff, complaint_id=complaint_id, audited=audited)
    context = _filing_context(session, view, staff, extra or {})
    return render(request, "desk/complaint.html", context, status_code=status_code, private=True)


@router.get("/{complaint_id}", response_class=HTMLResponse)
def filing_page(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The filing (opening it is audited, as the API's read is)."""
    _desk_staff(request, staff)
    extra = {"notice": DONE.get(done)}
    return _filing_page(request, session, staff, complaint_id, extra=extra, audited=True)


@router.post("/{complaint_id}/contact", response_class=HTMLResponse)
def contact(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """The complainant's full number, to call them; every read is audited (htmx fragment)."""
    _desk_staff(request, staff)
    service.visible_complaint(session, staff=staff, complaint_id=complaint_id)  # else 404
    try:
        number = views.contact_of(session, staff=staff, complaint_id=complaint_id)
    except NotFound:  # no number left to show: purged since the page was opened
        number = None
    return render(request, "desk/_contact.html", {"number": number}, private=True)


@router.get("/{complaint_id}/attachments/{attachment_id}")
def attachment(
    complaint_id: ComplaintID,
    attachment_id: Annotated[int, Path(ge=1, le=2**62)],
    request: Request,
    session: SessionDep,
    staff: PageStaff,
) -> Response:
    """A filing's attachment for staff signed in on the pages (the API's, with the cookie)."""
    _desk_staff(request, staff)
    found = views.attachment_of(
        session, staff=staff, complaint_id=complaint_id, attachment_id=attachment_id
    )
    return FileResponse(
        path_for(found.sha256),
        media_type=found.content_type,
        filename=found.filename,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


def _refused(
    request: Request,
    session: Session,
    staff: Staff,
    complaint_id: int,
    *,
    form: str,
    exc: InvalidInput | Conflict | ValidationError,
    values: dict[str, str],
    helps: dict[str, str],
) -> Response:
    """The filing again, nothing changed, with the message next to the form that was sent."""
    session.rollback()
    extra: dict[str, Any] = {"values": {form: values}, "focus": form}
    if isinstance(exc, Conflict):
        status = exc.status_code
        extra["problems"] = {form: _problem(exc)}
    else:
        status = 422
        extra["errors"] = {form: _messages(exc, helps)}
    return _filing_page(request, session, staff, complaint_id, extra=extra, status_code=status)


def _after(session: Session, staff: Staff, complaint_id: int, done: str) -> Response:
    """Back to the filing with a notice; to the queue if the filing has left this desk."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or not service.can_view(session, staff, complaint):
        return RedirectResponse("/staff/desk?done=transfer-away", status_code=303)
    return RedirectResponse(f"/staff/desk/{complaint_id}?done={done}", status_code=303)


@router.post("/{complaint_id}/actions/transfer", response_class=HTMLResponse)
async def transfer_filing(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """Move the filing to another department with a reason (routing.api.transfer_complaint)."""
    _desk_staff(request, staff)
    values, _ = await _form_values(request)
    try:
        asked = TransferRequest.model_validate(
            {"department": values.get("department", ""), "reason": values.get("reason", "")}
        )
        transfer(
            session,
            staff=staff,
            complaint_id=complaint_id,
            to_department=asked.department,
            reason=asked.reason,
        )
        audit.audit(
            session,
            staff=staff,
            action="act:transfer",
            complaint_id=complaint_id,
            detail={"to": asked.department},
        )
        session.commit()
    except (ValidationError, InvalidInput, Conflict) as exc:
        if isinstance(exc, InvalidInput):
            exc = InvalidInput(exc.detail, errors=[{"field": "department"}])
        return _refused(
            request,
            session,
            staff,
            complaint_id,
            form="transfer",
            exc=exc,
            values=values,
            helps=TRANSFER_HELP,
        )
    return _after(session, staff, complaint_id, "transfer")


@router.post("/{complaint_id}/actions/merge", response_class=HTMLResponse)
async def merge_filing(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """Close this filing as a duplicate of another (by id or tracking number); histories stay."""
    _desk_staff(request, staff)
    values, _ = await _form_values(request)
    form = f"merge-{values.get('into', '')}" if values.get("into") else "merge"
    into: int | str | None = values.get("into") or None
    if into is None and values.get("number"):
        other = find_by_tracking_number(session, values["number"])
        into = other.id if other is not None else 0
    try:
        asked = MergeRequest.model_validate({"into": into, "reason": values.get("reason", "")})
        merge(
            session,
            staff=staff,
            duplicate_id=complaint_id,
            survivor_id=asked.into,
            reason=asked.reason,
        )
        audit.audit(
            session,
            staff=staff,
            action="act:merge",
            complaint_id=complaint_id,
            detail={"into": asked.into},
        )
        session.commit()
    except (ValidationError, InvalidInput, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound):
            exc = InvalidInput(exc.detail, errors=[{"field": "into"}])
        return _refused(
            request,
            session,
            staff,
            complaint_id,
            form=form,
            exc=exc,
            values=values,
            helps=MERGE_HELP,
        )
    return _after(session, staff, complaint_id, "merge")


@router.post("/{complaint_id}/actions/dismiss-duplicate", response_class=HTMLResponse)
async def dismiss_duplicate(
    complaint_id: ComplaintID,
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """Not the same matter: the suggestion is kept, marked dismissed."""
    _desk_staff(request, staff)
    values, _ = await _form_values(request)
    form = f"dismiss-{values.get('link_id', '')}"
    try:
        asked = DismissRequest.model_validate({"link_id": values.get("link_id") or None})
        dismiss(session, staff=staff, complaint_id=complaint_id, link_id=asked.link_id)
        audit.audit(
            session,
            staff=staff,
            action="act:dismiss-duplicate",
            complaint_id=complaint_id,
            detail={"link_id": asked.link_id},
        )
        session.commit()
    except ValidationError as exc:
        raise NotFound("no such duplicate suggestion") from exc
    except Conflict as exc:
        return _refused(
            request, session, staff, complaint_id, form=form, exc=exc, values=values, helps=HELP
        )
    return _after(session, staff, complaint_id, "dismiss")


@router.post("/{complaint_id}/actions/{action}", response_class=HTMLResponse)
async def act(
    complaint_id: ComplaintID,
    action: Annotated[str, Path(max_length=40)],
    request: Request,
    session: SessionDep,
    staff: PageStaff,
    _csrf: CsrfChecked,
) -> Response:
    """One of the filing's allowed actions with its form's fields (cases.actions.perform)."""
    _desk_staff(request, staff)
    if action not in actions.SPECS:
        raise NotFound(f"no action {action!r}")
    form = action_form(action)
    values, files = await _form_values(request)
    try:
        body = _body(session, form, values, files)
        actions.perform(session, staff=staff, complaint_id=complaint_id, action=action, body=body)
        audit.audit(session, staff=staff, action=f"act:{action}", complaint_id=complaint_id)
        session.commit()
    except (UnsupportedMediaType, PayloadTooLarge) as exc:  # the report file: mend it
        problem = InvalidInput(exc.detail, errors=[{"field": "attachment"}])
        return _refused(
            request,
            session,
            staff,
            complaint_id,
            form=action,
            exc=problem,
            values=values,
            helps=HELP,
        )
    except (InvalidInput, Conflict) as exc:
        return _refused(
            request, session, staff, complaint_id, form=action, exc=exc, values=values, helps=HELP
        )
    return _after(session, staff, complaint_id, action)
