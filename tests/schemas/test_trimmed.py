"""A trimmed field, its JSON schema pattern and the services' own trim agree on every string."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from schemas.formats import Trimmed, trim


class _Reason(BaseModel):
    reason: Annotated[str, Trimmed(2, 20)]


# Found by schemathesis: U+001F is not Unicode White_Space, so pydantic kept it and the
# pattern allowed it, but str.strip() takes it, and a service that re-trimmed refused the
# value. Control characters are now refused wherever they are (PostgreSQL cannot store
# U+0000), but tab and line breaks; VT and FF are whitespace, trimmed at the ends.
@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("\u2008\u3000¾\x1f\x0b\r\u2029", False),
        ("\x1f¾", False),
        ("a\x00b", False),
        ("ab\x1f", False),
        ("a\x0bb", False),
        ("\x0ba\tb\r\nc\x0c", True),
        ("\u2008\u3000¾\x7f\x0b\r\u2029", True),  # DEL is no C0 control character
        ("  ab  ", True),
        ("\u3000a\u3000", False),
        ("\x85\xa0\u1680", False),
        ("a" * 21, False),
    ],
)
def test_the_model_the_schema_and_trim_agree(raw: str, valid: bool) -> None:
    pattern = _Reason.model_json_schema()["properties"]["reason"]["pattern"]
    assert bool(re.fullmatch(pattern, raw)) is valid
    try:
        accepted = _Reason(reason=raw).reason
    except ValidationError:
        assert not valid
        return
    assert valid
    assert accepted == trim(raw)
    assert 2 <= len(trim(accepted)) <= 20  # what a service checks after trimming again


def test_a_control_character_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        _Reason(reason="电梯\x00困人")
    [error] = refused.value.errors()
    assert error["loc"] == ("reason",)
    assert "control character U+0000" in error["msg"]
