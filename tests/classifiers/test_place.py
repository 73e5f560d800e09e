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


def test_the_business_address_outweighs_places_named_in_the_text() -> None:
    # The business operates in 太原 (its address); the text names where the product was made.
    place = gazetteer(SHANXI).locate(
        "太原市某某路88号某商场", None, "商品产地是河北省保定市清苑区，质量不合格，要求退货"
    )
    assert place is not None
    assert (place.province, place.city, place.county) == ("山西省", "太原市", None)


def test_a_passing_county_in_the_text_does_not_override_the_address_city() -> None:
    place = gazetteer(SHANXI).locate(
        "太原市亲贤北街1号", None, "我上周在北京市朝阳区出差时就发现了问题"
    )
    assert place is not None
    assert (place.city, place.county, place.code) == ("太原市", None, "140100")
    assert place.matched == ("太原市",)


def test_the_text_adds_the_county_under_the_address_city() -> None:
    place = gazetteer(SHANXI).locate("山西省太原市某某路88号", None, "在小店区亲贤北街的店里买的")
    assert place is not None
    assert (place.city, place.county) == ("太原市", "小店区")


def test_the_text_decides_when_the_address_names_no_place() -> None:
    place = gazetteer(SHANXI).locate("某某路88号", None, "在河北省保定市清苑区的店里买的")
    assert place is not None
    assert (place.province, place.city, place.county) == ("河北省", "保定市", "清苑区")


def test_a_shop_brand_is_not_a_county() -> None:
    # 永和豆浆 / 永和大王 are restaurant chains, not 临汾市永和县.
    text = "我在永和豆浆吃早餐，油条里吃出了头发，要求赔偿"
    assert gazetteer(SHANXI).locate(None, None, text) is None


def test_a_named_city_is_not_overridden_by_a_common_word_alias() -> None:
    place = gazetteer(SHANXI).locate(None, None, "我给长子在太原市某商场买的手机坏了，商家不给修")
    assert place is not None
    assert (place.city, place.county) == ("太原市", None)


def test_an_explicit_name_outweighs_a_short_name_even_at_a_boundary() -> None:
    place = gazetteer(SHANXI).locate("手机是给长子买的，在太原市某商场")
    assert place is not None
    assert (place.city, place.county) == ("太原市", None)


HAINAN = "海南省"


@pytest.mark.parametrize(
    ("text", "expected_county"),
    [
        # Real texts of the Haikou 12345 hotline (orders 20171231114069, 20180102124601,
        # 20180101119209): a direction, a Haikou park, a street named after a county but in
        # Haikou, twice, next to the district it lies in named once.
        ("驾驶车辆经过龙昆北路由西往东方向路段时出现违章驾驶", None),
        ("在白沙门公园交警服务站缴纳违章罚款，但是至今违章记录还未消除", None),
        ("在秀英区东方洋路东方洋大厦机动车停车场停车，物业要求收取26元", "秀英区"),
        ("驾车从五指山路往南亚广场方向行驶", None),
        ("东方，东方，秀英区某某路", "秀英区"),  # a name counts once, and a full one first
    ],
)
def test_everyday_words_of_the_home_province_are_not_counties(
    text: str, expected_county: str | None
) -> None:
    place = gazetteer(HAINAN).locate(text)
    assert (place.county if place else None) == expected_county


@pytest.mark.parametrize(
    ("text", "expected_county"),
    [
        ("我在东方买的", None),  # followed by a further word: not a place
        ("上周去了东方，在一家酒店住宿被多收费", "东方市"),  # at a boundary
        ("白沙县某某农家乐", "白沙黎族自治县"),  # before a suffix
        ("海口秀英港候船大厅的小卖部乱收费", "秀英区"),  # its city is named too
        ("平遥古城里的某客栈乱收费", None),  # a county of another province: full names only
    ],
)
def test_short_county_names_of_the_home_province_count_where_they_name_a_place(
    text: str, expected_county: str | None
) -> None:
    place = gazetteer(HAINAN).locate(text)
    assert (place.county if place else None) == expected_county


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山西省阳泉市郊区荫营镇某超市", ("阳泉市", "郊区", "140311")),
        ("阳泉城区北大街某商场", ("阳泉市", "城区", "140302")),
        ("晋城市城区某某路", ("晋城市", "城区", "140502")),
    ],
)
def test_a_generic_district_name_after_its_city_is_found(
    text: str, expected: tuple[str, str, str]
) -> None:
    # 郊区, 城区 and 矿区 alone name nothing (every other city has one), after their city
    # they name its district.
    place = gazetteer(SHANXI).locate(text)
    assert place is not None
    assert (place.city, place.county, place.code) == expected


def test_counties_directly_under_a_province_have_no_pseudo_city() -> None:
    place = gazetteer(HAINAN).locate("海南省文昌市文城镇某某路")
    assert place is not None
    assert (place.city, place.county, place.code) == (None, "文昌市", "469005")
    assert place.label == "海南省文昌市"
    danzhou = gazetteer(HAINAN).locate("儋州市那大镇某某路")
    assert danzhou is not None
    assert (danzhou.city, danzhou.county, danzhou.code) == ("儋州市", None, "460400")


@pytest.mark.parametrize(
    ("home", "text"),
    [
        # Real texts of the Haikou 12345 hotline: streets, a development zone, a town, a
        # police station and a block named after other cities or provinces, all in 海口.
        (HAINAN, "市民来电反映:大同路农业银行门口有一机动车堵路需要通知移车"),
        (HAINAN, "在府城中山北路的琼台书院有机动车堵路，希望车主移车"),
        (HAINAN, "大同一横路有人占道经营，请城管核实处理"),
        (HAINAN, "桂林洋开发区来电咨询：民生燃气联系方式的问题"),
        (HAINAN, "市民微信反映: 琼山大道东营路段处路灯未关闭，浪费资源"),
        (HAINAN, "有两辆货车拉泥浆到东营镇倒，请城管核实处理"),
        (HAINAN, "大同派出所门口有机动车堵路，出警的工作人员服务不规范"),
        (HAINAN, "大英山东一街雅仕苑一楼珠宝店铺面警报器产生噪音扰民"),
        (SHANXI, "在东营路的一家超市买的牛奶过期了"),
    ],
)
def test_a_short_name_before_a_street_word_names_the_street_not_its_city(
    home: str, text: str
) -> None:
    assert gazetteer(home).locate(None, None, text) is None


def test_a_street_named_after_another_city_stays_in_the_address_city() -> None:
    # 长治路 is a road of 太原; 长治 does not even count as a name met on the way.
    place = gazetteer(SHANXI).locate("山西省太原市小店区长治路某超市")
    assert place is not None
    assert (place.city, place.county) == ("太原市", "小店区")
    assert place.matched == ("山西省", "太原市", "小店区")


@pytest.mark.parametrize(
    ("home", "text", "expected_matched"),
    [
        (SHANXI, "太原市小店区长治商城某店卖假货", ("太原市", "小店区")),
        (HAINAN, "龙华区金华城C区的停车场乱收费", ("龙华区",)),  # an estate in 海口
    ],
)
def test_a_city_short_name_right_after_a_county_is_part_of_its_address(
    home: str, text: str, expected_matched: tuple[str, ...]
) -> None:
    # No city comes after a county in an address: 长治 and 金华 name a building here.
    place = gazetteer(home).locate(None, None, text)
    assert place is not None
    assert place.county == expected_matched[-1]
    assert place.matched == expected_matched


@pytest.mark.parametrize(
    ("home", "text", "expected"),
    [
        (SHANXI, "我在大同买的手机坏了，商家不给修", ("山西省", "大同市")),
        (SHANXI, "长治的一家超市卖过期食品", ("山西省", "长治市")),
        (SHANXI, "给从长治路过的朋友买的月饼发霉了", ("山西省", "长治市")),
        (SHANXI, "在北京街头买的糖葫芦吃坏了肚子", ("北京市", "北京市")),
        (HAINAN, "去三亚路费太贵，出租车不打表", ("海南省", "三亚市")),
        (HAINAN, "恒大海口湾二期交房后墙面漏水", ("海南省", "海口市")),  # a bay of 海口
        (HAINAN, "海南洋浦某公司拖欠工资", ("海南省", None)),
    ],
)
def test_a_city_short_name_in_running_text_still_names_the_city(
    home: str, text: str, expected: tuple[str, str | None]
) -> None:
    place = gazetteer(home).locate(None, None, text)
    assert place is not None
    assert (place.province, place.city) == expected


@pytest.mark.parametrize(
    "text",
    [
        # A building's name and the word after it: 大厦 + 门口 or 门前 is no 厦门, and
        # 几天 + 水压 no 天水 (甘肃).
        "写字楼大厦门口常年有车辆乱停，堵住出入口",
        "商务大厦门前的人行道被电动车占满，行人只能走机动车道",
        "小区最近几天水压很低，高层住户洗澡都困难",
    ],
)
def test_a_name_straddling_two_words_is_no_place(text: str) -> None:
    assert gazetteer(HAINAN).locate(None, None, text) is None


def test_a_straddled_name_does_not_count_beside_the_address() -> None:
    place = gazetteer(HAINAN).locate("龙华区国贸路某大厦门前的停车场乱收费")
    assert place is not None
    assert place.matched == ("龙华区",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # jieba's words overrun real names on one side only: 入海口 (an estuary), 换/领海/口,
        # 海/南海 (海南海汽 is Hainan's bus company). Such a cut is not enough to drop them.
        ("外地车辆要迁入海口需要哪些材料", ("海南省", "海口市")),
        ("外国驾驶证申请换领海口车管所的驾驶证", ("海南省", "海口市")),
        ("海南海汽集团的班车经常晚点", ("海南省", None)),
    ],
)
def test_a_name_cut_on_one_side_only_still_counts(
    text: str, expected: tuple[str, str | None]
) -> None:
    place = gazetteer(HAINAN).locate(None, None, text)
    assert place is not None
    assert (place.province, place.city) == expected
