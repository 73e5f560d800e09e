import pytest

from schemas.validators import (
    ascii_digits,
    id_number_problem,
    mask_phone,
    normalize_cn_phone,
    uscc_problem,
)


@pytest.mark.parametrize(
    "code",
    [
        "91110108551385082Q",  # real codes of well-known companies
        "91330100799655058B",
        "9144030071526726XG",
        "91440300708461136T",
        "91350100M000100Y43",
    ],
)
def test_real_unified_social_credit_codes_are_valid(code: str) -> None:
    assert uscc_problem(code) is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91330100799655058", "18 characters"),
        ("91330100799655058BB", "18 characters"),
        ("91330100799655058C", "check digit"),
        ("91330100799655085B", "check digit"),  # two digits swapped
        ("9133010079965505OB", "capital letters other than I, O"),
        ("91ABCDEF799655058B", "positions 3-8"),
        ("91330100799655058b", "capital letters"),
    ],
)
def test_invalid_unified_social_credit_codes_say_why(code: str, reason: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("010-12345678", "+861012345678"),
        ("0351-7654321", "+863517654321"),
        ("１３８１２３４５６７８", "+8613812345678"),  # typed with a Chinese input method
        ("０３５１－７６５４３２１", "+863517654321"),
    ],
)
def test_chinese_numbers_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalize_cn_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "123",
        "12345678901",
        "1381234567",
        "+14155552671",
        "abc13812345678",
        "138123456789999",
        "1381234567²",
    ],
)
def test_non_chinese_or_malformed_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        normalize_cn_phone(raw)


def test_masked_phone_keeps_only_prefix_and_last_four() -> None:
    assert mask_phone("+8613812345678") == "138****5678"


def test_every_decimal_digit_becomes_ascii_one_character_for_one() -> None:
    assert ascii_digits("电话１３８٣４５６۷８９０，门牌12号") == "电话13834567890，门牌12号"
    assert ascii_digits("²①Ⅻ") == "²①Ⅻ"  # digits to str.isdigit(), not decimal digits
    text = "联系１３８１２３４５６７８，ＡＢＣ"
    assert len(ascii_digits(text)) == len(text)  # positions stay (NFKC would fold ＡＢＣ)


def test_an_id_number_must_be_ascii_digits_and_callers_normalise_first() -> None:
    full_width = "１１０１０５１９９００１０１１２３２"
    assert id_number_problem(ascii_digits(full_width)) is None
    # Not "check digit does not match": the problem is the digits, not the arithmetic.
    assert id_number_problem(full_width) == "must be 17 digits and a check digit (0-9 or X)"


def _answer(normalize: object, raw: str) -> str:
    try:
        return str(normalize(raw))  # type: ignore[operator]
    except ValueError:
        return "ValueError"


def test_a_mobile_number_answered_at_once_is_what_phonenumbers_answers() -> None:
    # The fast way (phonenumbers' own CN mobile pattern) and the full parse agree on every
    # 11-digit number beginning with 1 (each three-digit and four-digit prefix, among them
    # the carrier-selection prefixes 11…, 12…, 179… that CN's parsing strips), written
    # with and without +86 or 0086, with spaces or dashes, in full-width digits.
    import random

    from schemas.validators import _by_phonenumbers

    draw = random.Random(20261205)
    national = [
        f"1{prefix:03d}{draw.randrange(10**7):07d}" for prefix in range(1000) for _ in range(3)
    ]
    national += ["16100000000", "17400012345", "17405999999", "17406000000", "17951234567"]
    fast = 0
    for number in national:
        reference = _answer(_by_phonenumbers, number)
        fast += reference != "ValueError"
        shapes = (
            number,
            f"+86{number}",
            f"0086{number}",
            f"+86 {number[:3]} {number[3:7]} {number[7:]}",
            f"{number[:3]}-{number[3:7]}-{number[7:]}",
            number.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        )
        for raw in shapes:
            assert _answer(normalize_cn_phone, raw) == reference, raw
    assert fast > 1000  # the sample holds many valid mobiles, not only refusals
