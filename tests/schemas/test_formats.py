"""Date-times in the API are ISO 8601 text: a number is refused however it is written."""

from __future__ import annotations

import pytest

from schemas.formats import iso_datetime_text


@pytest.mark.parametrize(
    "text", ["0", "0.5", "-3", "1.5e-213", "1E5", "+7", "1_000", " 12 ", "inf", "-Infinity", "nan"]
)
def test_a_number_is_never_taken_for_a_date_time(text: str) -> None:
    """pydantic reads any number as Unix seconds; the API's date-times are ISO 8601 text."""
    with pytest.raises(ValueError, match="ISO 8601"):
        iso_datetime_text(text)


@pytest.mark.parametrize(
    "text", ["2026-12-01", "2026-12-01T08:00:00+08:00", "2026-12-01 08:00", "yesterday", ""]
)
def test_text_that_is_not_a_number_goes_on_to_the_date_time_parser(text: str) -> None:
    assert iso_datetime_text(text) == text
