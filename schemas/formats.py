"""Named string formats in the API schema: the rule a validator checks, told to clients.

A JSON schema cannot state a check digit or a numbering plan; a named format can, and a
client (or a test generating requests) that knows the name knows what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic_core import core_schema

# A mainland China mobile or landline number, as phonenumbers validates it (+86…, 0086…, or
# national digits; spaces and dashes allowed).
CN_PHONE = Field(json_schema_extra={"format": "cn-phone"})
# 统一社会信用代码 (GB 32100-2015): 18 characters, check digit verified.
CN_USCC = Field(json_schema_extra={"format": "cn-uscc"})
# 居民身份证号码 (GB 11643-1999): 18 characters, check digit verified.
CN_ID_NUMBER = Field(json_schema_extra={"format": "cn-id-number"})

# The largest row id the API takes: a 64-bit column holds it on SQLite and PostgreSQL alike
# (a larger number is a client's mistake to be told about, not a crash in the driver).
MAX_ID = 2**53 - 1  # and exact as a JSON number in any client (a double)


def iso_datetime_text(value: object) -> object:
    """Refuse a bare number where a date-time is asked for, in any way it is written (0.5,
    -3, 1.5e-213, +7, 1_000, inf): pydantic would read it as Unix seconds, and `since=0.5`
    is more likely a mistake than 1970. No ISO 8601 date-time reads as a number."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("give an ISO 8601 date-time, e.g. 2026-12-01T08:00:00+08:00")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date_text(value: object) -> object:
    """Refuse anything but YYYY-MM-DD where a day is asked for: pydantic would read `until=0`
    as Unix second 0, a day the schema's `format: date` does not admit."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
        raise ValueError("give a day as YYYY-MM-DD, e.g. 2026-12-01")
    return value


# The years of a day a report may start or end on (core.timeutil.FIRST_DAY..LAST_DAY), in
# the schema too: a client, and schemathesis, learn there that 0876-08-16 is refused.
REPORT_DAY_PATTERN = r"^(19\d{2}|[2-8]\d{3}|9[0-8]\d{2}|99[0-8]\d|999[0-8])-\d{2}-\d{2}$"
ReportDay = Annotated[
    date,
    BeforeValidator(iso_date_text),
    WithJsonSchema({"type": "string", "format": "date", "pattern": REPORT_DAY_PATTERN}),
]


def given(field: str) -> dict[str, Any]:
    """JSON schema: `field` is there and not null (for the conditionals below)."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def required_when(condition: dict[str, Any], *fields: str) -> dict[str, Any]:
    """JSON schema: when `condition` holds, each of `fields` is given (a model validator's rule,
    stated in the schema so that clients know it)."""
    return {"if": condition, "then": {"allOf": [given(field) for field in fields]}}


# What pydantic's strip_whitespace strips (Unicode White_Space), spelled out: regex engines
# disagree on \s (ECMA-262, which JSON schema patterns follow, leaves out U+0085 and adds
# U+FEFF), and Python's str.strip() also strips U+001C–U+001F.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# C0 control characters but tab, line feed and carriage return (VT and FF are trimmed at the
# ends as whitespace, refused inside). Nobody types them; PostgreSQL cannot store U+0000 in
# text at all, and the others garble a page, a CSV cell or an SMS.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f"
SPACE, NOT_SPACE, ANY = f"[{_SPACE}]", f"[^{_SPACE}{_CONTROL}]", f"[^{_CONTROL}]"
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")


def no_control_characters(text: str) -> str:
    """`text` as it is; ValueError, naming the character, if it holds a C0 control character
    other than tab, line feed and carriage return."""
    found = _CONTROL_CHARACTER.search(text)
    if found:
        raise ValueError(
            f"must not contain the control character U+{ord(found.group()):04X} "
            "(of U+0000–U+001F only tab, line feed and carriage return are allowed)"
        )
    return text


def without_control_characters(text: str) -> str:
    """`text` with its C0 control characters but tab, line feed and carriage return taken
    out: for text a gateway delivers, which cannot be sent back to be corrected."""
    return _CONTROL_CHARACTER.sub("", text)


def trim(text: str) -> str:
    """`text` without surrounding whitespace, exactly as `Trimmed` fields trim it (str.strip()
    would also take U+001C–U+001F, so a service re-trimming what the schema accepted would
    refuse it)."""
    return text.strip(WHITE_SPACE)


def trimmed_length_pattern(min_length: int, max_length: int | None) -> str:
    """A pattern for strings `min_length`..`max_length` long once str.strip() has run, with
    no control character but tab, line feed and carriage return."""
    upper = "" if max_length is None else str(max(max_length - 2, 0))
    if min_length <= 0:
        body = f"(?:{NOT_SPACE}(?:{ANY}{{0,{upper}}}{NOT_SPACE})?)?"
    elif min_length == 1:
        body = f"{NOT_SPACE}(?:{ANY}{{0,{upper}}}{NOT_SPACE})?"
    else:
        body = f"{NOT_SPACE}{ANY}{{{min_length - 2},{upper}}}{NOT_SPACE}"
    return f"^{SPACE}*{body}{SPACE}*$"


@dataclass(frozen=True)
class Trimmed:
    """A string trimmed of surrounding whitespace, then `min_length`..`max_length` long, with
    no C0 control character but tab, line feed and carriage return (`no_control_characters`):
    `Annotated[str, Trimmed(2, 500)]`.

    Its JSON schema states the trimmed length with a pattern: minLength and maxLength would
    count the whitespace too, and the schema would then call "  x" valid where it is not.
    """

    min_length: int = 1
    max_length: int | None = None

    @property
    def pattern(self) -> str:
        return trimmed_length_pattern(self.min_length, self.max_length)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            no_control_characters,
            core_schema.str_schema(
                strip_whitespace=True, min_length=self.min_length, max_length=self.max_length
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {"type": "string", "pattern": self.pattern}
