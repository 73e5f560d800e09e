"""Tracking numbers a person can read aloud over the phone and type back without error.

Fourteen digits: the filing date in China (YYMMDD), seven random digits, and a Damm
check digit, which catches every single wrong digit and every swap of two neighbours.
Shown in groups of four (2611 2804 7315 92); accepted with or without spaces and dashes,
and in full-width digits as Chinese input methods type them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

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
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def new_tracking_number(filed_at: datetime) -> str:
    body = as_china(filed_at).strftime("%y%m%d") + f"{secrets.randbelow(10**7):07d}"
    return body + damm_digit(body)


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
