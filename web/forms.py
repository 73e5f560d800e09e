"""Form errors in Chinese: what is wrong with each field and what to write instead."""

from __future__ import annotations

from pydantic import ValidationError

from core.errors import PlatformError
from core.settings import get_settings
from intake.attachments import PayloadTooLarge, UnsupportedMediaType
from web.errors import size_label

# What each field expects, said once; shown whatever the exact rule it broke.
FIELD_HELP = {
    "kind": "请选择投诉、举报或咨询。",
    "text": "请用 10 到 5000 个字写明发生了什么。",
    "contact_phone": "请填写有效的中国大陆手机号或座机号（投诉和咨询必填，举报可不填）。",
    "business_name": "投诉和举报请填写商家或单位名称。",
    "business_uscc": "统一社会信用代码为 18 位，校验位不符，请核对（不知道可以不填）。",
    "business_address": "地址最多 300 字。",
    "complainant_name": "姓名最多 60 字；投诉须实名，请填写投诉人的真实姓名。",
    "complainant_address": "地址最多 300 字。",
    "demand": "诉求最多 500 字，例如：退货退款、赔偿。",
    "purchased_on": "购买日期不能晚于今天，也不能早于 1990 年 1 月 1 日。",
    "order_number": "订单号最多 100 字。",
    "reporter": "举报人信息有误。",
    "name": "姓名最多 60 字。",
    "phone": "请填写有效的中国大陆手机号或座机号。",
    "id_number": "身份证号码为 18 位，校验位不符，请核对。",
    "bank_name": "填写银行账号时请同时填写开户银行。",
    "bank_account": "银行账号为 10 到 30 位数字。",
}
RESELECT_ATTACHMENTS = "选好的附件还没有上传：改好上面的内容后，请重新选择附件。"
_MENTIONS = ("contact_phone", "business_name", "bank_name", "reporter")


def field_messages(exc: ValidationError) -> dict[str, str]:
    """{field: message}; a rule that spans fields is put on the field it names.

    A filing's nested reporter fields are the form's `reporter_name`, `reporter_phone`, ….
    """
    messages: dict[str, str] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if not str(part).isdigit()]
        field = location[-1] if location else ""
        if field not in FIELD_HELP:
            text = str(error.get("msg", ""))
            field = next((name for name in _MENTIONS if name in text), "form")
        key = field
        if location[:1] == ["reporter"] and field != "reporter":
            key = f"reporter_{field}"
        messages.setdefault(key, FIELD_HELP.get(field, "请检查填写的内容。"))
    return messages


def upload_message(exc: PlatformError) -> str | None:
    """Why an attachment was refused, or None if `exc` is not about one."""
    if isinstance(exc, PayloadTooLarge):
        limit = size_label(get_settings().attachment_max_bytes)
        return f"每个附件不超过 {limit}，请压缩后再上传。"
    if isinstance(exc, UnsupportedMediaType):
        return "附件只能是 JPG、PNG、GIF、WebP 图片或 PDF 文件。"
    return None


def too_many_attachments() -> str:
    return f"一次最多上传 {get_settings().attachments_per_filing} 个附件，请删去一些再提交。"
