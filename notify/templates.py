"""The texts the platform sends, one template per purpose; {fields} filled per message."""

from __future__ import annotations

from core.errors import InvalidInput

SIGNATURE = "【12315】"

# Templates sent on anyone's request to any number they type (a sign-in code): counted in a
# per-number daily budget of their own (notify.budget), not the one the filings' texts use.
OWN_BUDGET: frozenset[str] = frozenset({"citizen_code"})

TEMPLATES: dict[str, str] = {
    "filed": "您的{kind}已登记，受理编号{number}。发送“查询{number}”或登录网站可查询办理进度。",
    # An SMS complaint comes without a name, which a complaint must have (SAMR Order 121).
    "filed_name_needed": "您的投诉已登记，受理编号{number}。投诉须实名，请回复“姓名”加您的姓名"
    "（如：姓名张三）。发送“查询{number}”可查询办理进度。",
    "name_received": "受理编号{number}：已记录投诉人姓名，谢谢。",
    "status": "受理编号{number}：{status}{where}。",
    "not_found": "未找到受理编号{number}，请核对后重新发送“查询”加受理编号。",
    "too_short": "请在一条短信中写明商家名称、地址和发生的问题（至少10个字），我们将为您登记。",
    "too_long": "短信内容超过{max}字，未能登记。请精简后重新发送，或登录网站提交。",
    "reply_received": "已收到您对受理编号{number}的回复，谢谢。",
    "accepted": "受理编号{number}：您的投诉已由{where}受理。",
    "refused": "受理编号{number}：不予受理。理由：{reason}",
    "mediation_result": "受理编号{number}：{result}",
    "closed": "受理编号{number}已办结：{summary}。请回复1-5分评价办理情况（5分最满意）。",
    "answered": "受理编号{number}：{answer}",
    # To a citizen whose filing was merged into another: no rating asked, as theirs has none.
    "merged_closed": "受理编号{number}：您反映的事项已合并办结{outcome}。",
    "case_decision": "受理编号{number}：您举报的线索{decision}。",
    "staff_reply": "受理编号{number}：{text}",
    "recall": "受理编号{number}：您反映的{product}经核查存在缺陷，已责令召回。请停止使用，"
    "按召回公告办理退换。",
    "rating_received": "受理编号{number}：已收到您的{score}分评价，谢谢。",
    # To a tip-off's reporter: no filing number, business or case, only the award.
    "reward_paid": "您的举报奖励{amount}已发放，请注意查收。感谢您对市场监管工作的支持。",
    "tip_filed": "您的举报已登记。举报回执码{receipt}，请妥善保存，凭此码查询进度、补充材料、"
    "申领奖励；本码只发送这一次。",
    "receipt_not_found": "举报回执码不正确或尝试次数过多，请核对后稍后再试。",
    "tip_status": "您的举报：{status}{where}。",
    # Only the code and what it opens: no filing, business or number in it.
    "citizen_code": "验证码{code}，用于登录查看您的投诉和咨询，{minutes}分钟内有效。请勿告诉他人。",
    "reporter_question": "承办部门就您的举报提出了问题，请凭举报回执码查看并答复。",
}


def render(template: str, params: dict[str, str]) -> str:
    try:
        return SIGNATURE + TEMPLATES[template].format(**params)
    except KeyError as exc:
        raise InvalidInput(f"SMS template {template!r} needs {exc}") from exc
