"""Tracking numbers a person can read aloud over the phone and type back without error.

Fourteen digits: the filing date in China (YYMMDD), seven random digits, and a Damm
check digit, which catches every single wrong digit and every swap of two neighbours.
Shown in groups of four (2611 2804 7315 92); accepted with or without spaces and dashes,
and in full-width digits as Chinese input methods type them.
"""

from __future__ import annotations

import re
import secrets
import struct
from datetime import UTC, datetime
from functools import lru_cache

from core.timeutil import as_china
from schemas.validators import ascii_digits

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
LENGTH = 14
_SEPARATORS = re.compile(r"[\s\-]")
_DIGITS = re.compile(rf"[0-9]{{{LENGTH}}}")


def damm_digit(digits: str) -> str:
    return str(_damm(digits))


def _damm(digits: str, interim: int = 0) -> int:
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


@lru_cache(maxsize=8)
def _day(hour: int) -> tuple[str, int]:
    """The China day (YYMMDD) of the hour `hour` (hours since the epoch), and the Damm
    check's state after those six digits. China keeps no summer time: its days begin on
    the hour, so the hour names the day."""
    day = as_china(datetime.fromtimestamp(hour * 3600, UTC)).strftime("%y%m%d")
    return day, _damm(day)


def tracking_day(filed_at: datetime) -> str:
    """The day a number filed at `filed_at` begins with."""
    return _day(int(filed_at.timestamp()) // 3600)[0]


def new_tracking_number(filed_at: datetime) -> str:
    return new_tracking_numbers(filed_at, 1)[0]


def new_tracking_numbers(filed_at: datetime, n: int) -> list[str]:
    """`n` new numbers of the day of `filed_at` (a few may repeat)."""
    day, state = _day(int(filed_at.timestamp()) // 3600)
    numbers = []
    for value in _random_below(10**7, n):
        digits = f"{value:07d}"
        numbers.append(f"{day}{digits}{_damm(digits, state)}")
    return numbers


def _random_below(span: int, n: int) -> list[int]:
    """`n` uniform random integers in [0, span) from one read of the system's randomness
    (`secrets.randbelow` reads it once per number); span < 2**32."""
    limit = (2**32 // span) * span  # below it, every residue is equally likely
    values: list[int] = []
    while len(values) < n:
        raw = secrets.token_bytes(4 * (n - len(values)))
        values += [v % span for (v,) in struct.iter_unpack("<I", raw) if v < limit]
    return values


def normalize_tracking_number(raw: str) -> str | None:
    """The canonical 14 digits, or None if `raw` cannot be a tracking number."""
    digits = ascii_digits(_SEPARATORS.sub("", raw))
    if not _DIGITS.fullmatch(digits):  # not str.isdigit(): "²" is a digit int() refuses
        return None
    if damm_digit(digits[:-1]) != digits[-1]:
        return None
    return digits


def display_tracking_number(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
