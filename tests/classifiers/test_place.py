import pytest

from classifiers.place import Place, gazetteer

SHANXI = "山西省"

CASES = [
    ("山西省太原市小店区亲贤北街1号", ("山西省", "太原市", "小店区", "140105")),
    ("太原迎泽区柳巷某商场", ("山西省", "太原市", "迎泽区", "140106")),
    ("我在大同买的东西有问题", ("山西省", "大同市", None, "140200")),
    ("平遥古城里的某客栈乱收费", ("山西省", "晋中市", "平遥县", "140728")),
    ("市民反映运城市盐湖区某超市出售过期食品", ("山西省", "运城市", "盐湖区", "140802")),
    ("北京市朝阳区三里屯某酒吧", ("北京市", "北京市", "朝阳区", "110105")),
    ("海口市美兰区海甸岛某酒店", ("海南省", "海口市", "美兰区", "460108")),
    ("长春市朝阳区某小区物业", ("吉林省", "长春市", "朝阳区", "220104")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_places_are_found_in_addresses_and_free_text(
    text: str, expected: tuple[str, str | None, str | None, str]
) -> None:
    place = gazetteer(SHANXI).locate(text)
    assert place is not None
    assert (place.province, place.city, place.county, place.code) == expected


@pytest.mark.parametrize(
    "text",
    [
        "商家不给退款，态度很差",
        "市民来电咨询：黄色停车位属于什么停车位。",
        "我在小店买的烟是假的",  # 小店 is a shop here, not 太原's 小店区
        "城区有人乱摆摊",
    ],
)
def test_texts_without_a_place_give_none(text: str) -> None:
    assert gazetteer(SHANXI).locate(text) is None


def test_an_ambiguous_county_is_settled_by_the_city_named() -> None:
    assert gazetteer(None).locate("龙华区盐灶路") is None  # 海口 and 深圳 both have one
    place = gazetteer(None).locate("海口市龙华区盐灶路")
    assert place is not None
    assert place.city == "海口市"


def test_a_full_address_outweighs_a_passing_mention_in_the_text() -> None:
    place = gazetteer(SHANXI).locate("山西省长治市潞州区英雄中路", None, "我上周在太原出差时买的")
    assert place is not None
    assert (place.city, place.county) == ("长治市", "潞州区")


def test_a_region_settles_an_ambiguous_address() -> None:
    place = gazetteer(None).locate("龙华区盐灶一横路", "海口市", "施工噪音扰民")
    assert place is not None
    assert (place.province, place.city, place.county) == ("海南省", "海口市", "龙华区")


def test_place_label_and_level() -> None:
    assert Place("山西省", "太原市", "小店区", "140105").label == "山西省太原市小店区"
    assert Place("北京市", "北京市", "朝阳区", "110105").label == "北京市朝阳区"
    assert Place("山西省", "太原市", None, "140100").level == "city"
    assert Place().level is None
