"""A trimmed field, its JSON schema pattern and the services' own trim agree on every string."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from schemas.formats import Trimmed, trim


class _Reason(BaseModel):
    reason: Annotated[str, Trimmed(2, 20)]


# Found by schemathesis: U+001F is not Unicode White_Space, so pydantic keeps it and the
# pattern allows it, but str.strip() takes it, and a service that re-trimmed refused the value.
@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("\u2008\u3000¾\x1f\x0b\r\u2029", True),
        ("\x1f¾", True),
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
