"""Barcodes: GTIN-8, -12, -13 and -14 with the GS1 check digit."""

from __future__ import annotations

import pytest

from schemas.validators import gtin14, gtin_problem, normalize_gtin

VALID = [
    "96385074",  # GTIN-8 (EAN-8)
    "40170725",
    "036000291452",  # GTIN-12 (UPC-A)
    "012345678905",
    "6901234567892",  # GTIN-13 (EAN-13), a Chinese 690 prefix
    "4006381333931",
    "10012345678902",  # GTIN-14 (ITF-14)
    "00012345600012",
]
INVALID = [
    ("96385075", "check digit is 5, expected 4"),
    ("036000291453", "check digit is 3, expected 2"),
    ("6901234567890", "check digit is 0, expected 2"),
    ("10012345678901", "check digit is 1, expected 2"),
    ("1234567", "must be 8, 12, 13 or 14 digits, got 7"),
    ("12345678901", "must be 8, 12, 13 or 14 digits, got 11"),
    ("123456789012345", "must be 8, 12, 13 or 14 digits, got 15"),
    ("69012345678A2", "must be digits only"),
    ("６９０１２３４５６７８９２", "must be digits only"),  # full-width digits
    ("", "must be digits only"),
]


@pytest.mark.parametrize("code", VALID)
def test_a_valid_barcode_of_each_length_passes(code: str) -> None:
    assert gtin_problem(code) is None


@pytest.mark.parametrize(("code", "problem"), INVALID)
def test_an_invalid_barcode_says_why(code: str, problem: str) -> None:
    assert gtin_problem(code) == problem


def test_spaces_and_dashes_as_printed_are_dropped_and_all_lengths_share_one_form() -> None:
    assert normalize_gtin(" 6 901234-567892 ") == "6901234567892"
    assert gtin14("036000291452") == gtin14("0036000291452") == "00036000291452"
