"""Validation of Chinese identifiers that appear in filings (pure functions, no I/O)."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# GB 32100-2015: 31 characters, no I, O, Z, S, V.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def ascii_digits(text: str) -> str:
    """`text` with every Unicode decimal digit as its ASCII digit (full-width １３８, the
    Arabic-Indic digits …), one character for one, so positions in `text` stay where they
    were (NFKC would also fold letters and signs, and change lengths).

    Chinese input methods type full-width digits; a number looked up or checked must be
    normalised with this first, then required to be ASCII (`str.isdigit()` is also true of
    "²", which `int()` refuses)."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code (统一社会信用代码), or None."""
    if len(code) != 18:
        return "must be 18 characters"
    if not _USCC_SHAPE.match(code):
        return (
            "must be digits and capital letters other than I, O, Z, S, V, "
            "with digits in positions 3-8 (the administrative division code)"
        )
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code, _USCC_WEIGHTS, strict=False))
    expected = _USCC_ALPHABET[(31 - total % 31) % 31]
    if code[17] != expected:
        return "check digit does not match (GB 32100-2015)"
    return None


def normalize_uscc(code: str) -> str:
    return code.strip().upper()


_PHONE_SEPARATORS = re.compile(r"[\s\-()（）－]")
_PHONE_SHAPE = re.compile(r"\+?[0-9]+")


def _cn_mobile_pattern() -> re.Pattern[str]:
    """phonenumbers' own pattern of a mainland mobile number (its metadata for CN)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if not pattern:
        raise RuntimeError("phonenumbers has no mobile pattern for CN")
    return re.compile(str(pattern))


_CN_MOBILE = _cn_mobile_pattern()


def normalize_cn_phone(raw: str) -> str:
    """A Chinese mobile or landline number in E.164 (+86...); ValueError with a reason if not.

    A mobile number, as nearly every filing gives, is checked against phonenumbers' own
    mobile pattern for CN and answered at once: its full parse, validation and formatting
    cost a filing 50 µs, an eighth of what the framework spent on one (cProfile). Anything
    else goes through phonenumbers; both give the same answer (tests/schemas)."""
    cleaned = ascii_digits(_PHONE_SEPARATORS.sub("", raw))
    if not cleaned:
        raise ValueError("phone number is empty")
    if not _PHONE_SHAPE.fullmatch(cleaned):
        raise ValueError("phone number may hold only digits, spaces, dashes and a leading +")
    if not 7 <= len(cleaned.lstrip("+")) <= 16:
        raise ValueError("phone number has too few or too many digits")
    if cleaned.startswith("0086"):
        cleaned = "+86" + cleaned[4:]
    national = cleaned.removeprefix("+86")
    if len(national) == 11 and national[0] == "1" and _CN_MOBILE.fullmatch(national):
        return "+86" + national
    return _by_phonenumbers(cleaned)


def _by_phonenumbers(cleaned: str) -> str:
    """`normalize_cn_phone` of a number already cleaned, by phonenumbers alone."""
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if number.country_code != 86:
        raise ValueError("must be a mainland China (+86) number")
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid Chinese mobile or landline number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_cn_mobile(e164: str) -> bool:
    """Whether a number from `normalize_cn_phone` can receive a text (a landline cannot)."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164, "CN"))
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def mask_phone(e164: str) -> str:
    """+8613812345678 → 138****5678, for logs and screens where the full number is not needed."""
    digits = e164.removeprefix("+86")
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# GB 11643-1999: 17 digits and a check character (0-9 or X), weights 2^(17-i) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_problem(code: str) -> str | None:
    """Why `code` is not a valid resident identity card number (居民身份证号码), or None."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", code):
        return "must be 17 digits and a check digit (0-9 or X)"
    total = sum(int(ch) * w for ch, w in zip(code[:17], _ID_WEIGHTS, strict=True))
    if code[17] != _ID_CHECK[total % 11]:
        return "check digit does not match (GB 11643-1999)"
    return None


def mask_id_number(code: str) -> str:
    """110105199001011234 → 110***********1234."""
    if len(code) <= 7:
        return "*" * len(code)
    return code[:3] + "*" * (len(code) - 7) + code[-4:]


GTIN_LENGTHS = (8, 12, 13, 14)


def normalize_gtin(code: str) -> str:
    """Digits only: spaces and dashes as printed under a barcode are dropped."""
    return code.strip().replace(" ", "").replace("-", "")


def gtin_problem(code: str) -> str | None:
    """Why `code` is not a GTIN-8/12/13/14 (GS1 mod-10 check digit), or None if it is."""
    if not code.isascii() or not code.isdigit():
        return "must be digits only"
    if len(code) not in GTIN_LENGTHS:
        return f"must be 8, 12, 13 or 14 digits, got {len(code)}"
    body, check = code[:-1], int(code[-1])
    # Weights 3, 1, 3, … from the digit next to the check digit leftwards.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    expected = (10 - total % 10) % 10
    if check != expected:
        return f"check digit is {check}, expected {expected}"
    return None


def gtin14(code: str) -> str:
    """A valid GTIN of any length as the 14-digit form (left-padded with zeros), so that one
    product's UPC-A and its EAN-13 with a leading 0 are the same key."""
    return code.zfill(14)
