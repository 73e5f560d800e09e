from datetime import UTC, datetime

import pytest

from intake.tracking_number import (
    display_tracking_number,
    new_tracking_number,
    normalize_tracking_number,
)


def test_number_starts_with_the_china_date_and_checks_itself() -> None:
    # 20:00 UTC on 27 Nov is already 28 Nov in Beijing.
    number = new_tracking_number(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    assert number.startswith("261128")
    assert len(number) == 14
    assert normalize_tracking_number(number) == number


def test_display_groups_of_four_are_accepted_back() -> None:
    number = new_tracking_number(datetime.now(UTC))
    shown = display_tracking_number(number)
    assert shown.replace(" ", "") == number
    assert normalize_tracking_number(shown) == number
    assert normalize_tracking_number(shown.replace(" ", "-")) == number


@pytest.mark.parametrize("position", range(14))
def test_any_single_wrong_digit_is_caught(position: int) -> None:
    number = new_tracking_number(datetime.now(UTC))
    for digit in "0123456789":
        if digit == number[position]:
            continue
        typo = number[:position] + digit + number[position + 1 :]
        assert normalize_tracking_number(typo) is None


def test_swapped_neighbours_are_caught() -> None:
    for _ in range(50):
        number = new_tracking_number(datetime.now(UTC))
        for i in range(13):
            if number[i] != number[i + 1]:
                swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
                assert normalize_tracking_number(swapped) is None


def test_full_width_and_other_decimal_digits_are_read_as_ascii() -> None:
    number = new_tracking_number(datetime.now(UTC))
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    arabic_indic = number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert normalize_tracking_number(full_width) == number
    assert normalize_tracking_number(display_tracking_number(full_width)) == number
    assert normalize_tracking_number(arabic_indic) == number


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "2611286563819",
        "261128656381911",
        "2611 2865 6381 9x",
        # str.isdigit() says yes to these, int() says no: a 404, never a crash.
        "261128656381²1",
        "26112865638¹91",
        "2611286563819①",
    ],
)
def test_malformed_numbers_are_refused(raw: str) -> None:
    assert normalize_tracking_number(raw) is None
