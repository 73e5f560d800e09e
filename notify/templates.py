"""The texts the platform sends, one template per purpose; {fields} filled per message."""

from __future__ import annotations

from core.errors import InvalidInput

SIGNATURE = "【12315】"

TEMPLATES: dict[str, str] = {
    "filed": "您的{kind}已登记，受理编号{number}。发送“查询{number}”或登录网站可查询办理进度。",
    "status": "受理编号{number}：{status}{where}。",
    "not_found": "未找到受理编号{number}，请核对后重新发送“查询”加受理编号。",
    "too_short": "请在一条短信中写明商家名称、地址和发生的问题（至少10个字），我们将为您登记。",
    "reply_received": "已收到您对受理编号{number}的回复，谢谢。",
}


def render(template: str, params: dict[str, str]) -> str:
    try:
        return SIGNATURE + TEMPLATES[template].format(**params)
    except KeyError as exc:
        raise InvalidInput(f"SMS template {template!r} needs {exc}") from exc
