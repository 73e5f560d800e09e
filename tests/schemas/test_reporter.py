"""A tip-off reporter's identity as given: checked, and stored in the form it is used in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.reporter import ReporterIdentityIn

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def test_a_full_width_bank_account_is_stored_as_ascii_digits() -> None:
    identity = ReporterIdentityIn(
        bank_name="中国银行", bank_account="6222 0212 3456 7890 123".translate(FULL_WIDTH)
    )
    assert identity.bank_account == "6222021234567890123"


@pytest.mark.parametrize("id_number", ["110105199001011232", "11010519491231002x"])
def test_a_full_width_id_number_is_checked_and_stored_as_ascii(id_number: str) -> None:
    identity = ReporterIdentityIn(id_number=id_number.translate(FULL_WIDTH))
    assert identity.id_number == id_number.upper()


def test_a_full_width_phone_is_stored_in_e164() -> None:
    assert ReporterIdentityIn(phone="１３８１２３４５６７８").phone == "+8613812345678"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id_number", "110105199001011233", "check digit does not match"),
        ("id_number", "11010519900101123²", "must be 17 digits"),
        ("bank_account", "6222²21234567890123", "10–30 digits"),
    ],
)
def test_what_is_still_wrong_is_refused_with_its_reason(
    field: str, value: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        ReporterIdentityIn(**{field: value, "bank_name": "中国银行"})
