import pytest

from classifiers.kind import detect_kind
from schemas.enums import Kind

CASES = [
    ("市民来电咨询：黄色停车位属于什么停车位。", Kind.inquiry),
    ("请问办理居住证需要准备哪些材料？", Kind.inquiry),
    ("想问一下网购的商品七天无理由退货的运费由谁出", Kind.inquiry),
    ("市民云咨询：外地人在太原工作4个月，办理居住证需要准备哪些条件？", Kind.inquiry),
    ("12315的电话是多少？", Kind.inquiry),
    ("我在某某超市买的牛奶过期了，要求退款，商家不给退", Kind.complaint),
    ("上个月在4S店买的车发动机异响，多次维修没修好，要求换车", Kind.complaint),
    ("健身房老板跑路了，我办的年卡还有8个月，要求退还剩余费用", Kind.complaint),
    ("我想投诉楼下的烧烤店，每天晚上油烟太大", Kind.complaint),
    ("网购的羽绒服质量问题，商家拒绝退货", Kind.complaint),
    ("举报某某饭店无证经营，后厨卫生极差，请依法查处", Kind.tip),
    ("城中村有个黑作坊在生产豆芽，使用违禁添加剂", Kind.tip),
    ("某公司涉嫌传销，拉人头交入门费", Kind.tip),
    ("这家药店销售假冒伪劣药品，请有关部门取缔", Kind.tip),
    ("小区门口的加油站偷排废水", Kind.tip),
]


@pytest.mark.parametrize(("text", "kind"), CASES)
def test_kind_is_detected_from_the_words(text: str, kind: Kind) -> None:
    guess = detect_kind(text)
    assert guess.kind is kind, guess
    assert guess.reasons
    assert all(reason in text for reason in guess.reasons)
    assert 0 < guess.confidence <= 1


@pytest.mark.parametrize(
    "text",
    [
        "我在某某店买的手机是假冒的，要求退货赔偿，同时举报该店售假",
        "饭店卖的菜里有虫子要求赔偿，另外举报他们无证经营",
    ],
)
def test_a_complaint_that_is_also_a_tip_off_is_flagged_for_splitting(text: str) -> None:
    assert detect_kind(text).split_suggested


@pytest.mark.parametrize("text", [t for t, _ in CASES])
def test_plain_filings_are_not_flagged_for_splitting(text: str) -> None:
    assert not detect_kind(text).split_suggested


def test_no_cue_at_all_defaults_to_complaint_with_zero_confidence() -> None:
    guess = detect_kind("小区门口有人摆摊")
    assert guess.kind is Kind.complaint
    assert guess.confidence == 0
    assert guess.reasons == ()


@pytest.mark.parametrize(
    "text",
    [
        "请问怎么举报传销？",
        "想问一下如何举报无证经营的店？",
        "我想咨询一下举报奖励怎么领取？",
        "12315的举报电话是多少？",
    ],
)
def test_a_question_about_how_to_report_is_an_inquiry(text: str) -> None:
    assert detect_kind(text).kind is Kind.inquiry


@pytest.mark.parametrize(
    "text", ["我不是要举报，只是想投诉他们不给退款。", "不是举报，我只要求商家退款。"]
)
def test_a_denied_tip_off_is_a_complaint_not_flagged_for_splitting(text: str) -> None:
    guess = detect_kind(text)
    assert guess.kind is Kind.complaint
    assert not guess.split_suggested


def test_a_refund_not_given_is_still_a_complaint_cue() -> None:
    # Only the words naming a kind (举报, 投诉, 咨询) are negated: 没有退款 is the grievance.
    assert detect_kind("商家一直没有退款，也不给换货").kind is Kind.complaint
