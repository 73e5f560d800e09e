"""E-commerce jurisdiction: a platform seller with no address is handled where the platform
is registered (SAMR Order 121); the business's address, an operator's place and, for local
shops on a delivery platform, the place the text names come first."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cases.repository import latest_routing_event
from classifiers.place import gazetteer
from core.errors import InvalidInput
from routing.jurisdiction import Ground, ground_note, locate_filing
from routing.platforms import PlatformIndex, PlatformSpec, resolve
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas.complaint import Complaint
from schemas.department import RegistryLoad
from schemas.enums import Kind, Role, Status
from tests.helpers import add_staff, bearer, run_worker_until_idle, sign_in_page, valid_filing

PLACES = gazetteer("山西省")
PLATFORMS = PlatformIndex(parse_registry(DEFAULT_REGISTRY).platforms)


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("在京东买的手机屏幕碎了",), ("jd", "京东")),
        (("我在京东方买的显示屏坏了",), None),  # a display maker, not 京东
        (("拼多多商家不发货",), ("pinduoduo", "拼多多商家")),  # 拼 + 多多 to jieba
        (("淘宝网店卖假货",), ("taobao", "淘宝网")),  # the longest name at one place
        (("先在淘宝看的，最后在京东买的",), ("taobao", "淘宝")),  # the leftmost
        (("京东旗舰店", "在淘宝问过价"), ("jd", "京东旗舰店")),  # the business name first
        ((None, "美团外卖送餐超时"), ("meituan", "美团外卖")),
        (("在商场买的电饭煲坏了",), None),
    ],
)
def test_the_platform_a_filing_names(
    texts: tuple[str | None, ...], expected: tuple[str, str] | None
) -> None:
    found = PLATFORMS.find(*texts)
    assert (found and (found.platform.code, found.name)) == expected


def _locate(
    text: str, kind: Kind = Kind.complaint, platforms: PlatformIndex = PLATFORMS, **given: str
) -> tuple[Any, Ground]:
    return locate_filing(
        text=text,
        business_name=given.get("business_name"),
        business_address=given.get("business_address"),
        region=given.get("region"),
        hinted_place=given.get("hinted_place"),
        kind=kind,
        places=PLACES,
        platforms=platforms,
    )


def test_a_platform_seller_without_an_address_is_handled_where_the_platform_is_registered() -> None:
    place, ground = _locate("在拼多多上买的羽绒服是假货，商家拒绝退款，要求退一赔三")
    assert (place.province, place.county, place.code) == ("上海市", "长宁区", "310105")
    assert place.matched == ("拼多多",)
    assert ground.rule == "platform"
    assert ground.outside
    assert ground.mention is not None
    assert ground.mention.platform.operator == "上海寻梦信息技术有限公司"
    assert ground_note(ground.as_dict()) == (
        "平台注册地（拼多多，上海寻梦信息技术有限公司），不在本省管辖范围，由省级承办机构移送"
    )


def test_the_sellers_address_comes_before_the_platform() -> None:
    place, ground = _locate(
        "在淘宝上这家店买的醋有异味，要求退款",
        business_name="清徐某某醋业淘宝店",
        business_address="山西省太原市清徐县某某村",
    )
    assert (place.city, place.county) == ("太原市", "清徐县")
    assert ground == Ground("business_address")


def test_an_operators_place_comes_first() -> None:
    place, ground = _locate("在京东买的手机屏幕碎了", hinted_place="太原市迎泽区")
    assert place.county == "迎泽区"
    assert ground.rule == "operator"


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("美团外卖点的餐有异物，店在太原市迎泽区柳巷", "迎泽区"),  # the shop is local
        ("拼多多上的商家卖假酒，商家地址在吕梁市汾阳市", "汾阳市"),  # the seller's place
        ("在拼多多上买的羽绒服是假货，我住在太原市小店区", "小店区"),  # lawful too: first received
        ("在携程订的太原市杏花岭区某酒店，入住时被加价", "杏花岭区"),
    ],
)
def test_a_place_the_text_names_keeps_a_platform_complaint_in_the_province(
    text: str, county: str
) -> None:
    # Where the seller operates and where the platform is registered are both lawful
    # (DOMAIN); the text's place is the seller's or the buyer's, and the office that
    # receives a complaint first may handle it.
    place, ground = _locate(text)
    assert (place.county, ground.rule, ground.outside) == (county, "text", False)


@pytest.mark.parametrize(
    "text",
    [
        "在苏宁易购门店买的空调不制冷，要求退货",  # a shop in a street, not an online purchase
        "在京东之家实体店买的耳机有杂音",
        "装修的时候师傅是个快手，结果水管漏水",  # 快手 is also an everyday word
    ],
)
def test_a_platforms_shop_or_an_everyday_word_is_no_platform(text: str) -> None:
    place, ground = _locate(text)
    assert place is None
    assert ground == Ground("none")


def test_only_complaints_follow_the_platform() -> None:
    # A tip-off goes where the conduct happened, an inquiry nowhere in particular.
    for kind in (Kind.tip, Kind.inquiry):
        place, ground = _locate("举报拼多多上有人卖假烟", kind=kind)
        assert place is None
        assert ground.rule == "none"


def test_no_place_and_no_platform() -> None:
    place, ground = _locate("买的电饭煲坏了，要求退货")
    assert place is None
    assert ground == Ground("none")
    assert ground_note(ground.as_dict()) == "未识别地区"
    assert ground_note(None) is None


def test_a_platform_registered_in_the_province_is_handled_there() -> None:
    index = PlatformIndex(
        resolve(
            [
                PlatformSpec(
                    code="jinshang", name="晋商网", operator="某某公司", place="太原市小店区"
                )
            ],
            PLACES,
        )
    )
    place, ground = _locate("在晋商网买的小米有霉", platforms=index)
    assert (place.county, ground.rule, ground.outside) == ("小店区", "platform", False)


def _registry_with(tmp_path: Path, platforms: list[dict[str, Any]]) -> Path:
    data = yaml.safe_load(DEFAULT_REGISTRY.read_text(encoding="utf-8"))
    data["platforms"] = platforms
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("platforms", "message"),
    [
        (
            [{"code": "x1", "name": "某平台", "operator": "某公司", "place": "火星"}],
            "platforms.x1: place '火星' is not a known province, city or county",
        ),
        (
            [
                {"code": "x1", "name": "某平台", "operator": "某公司", "place": "北京市"},
                {
                    "code": "x2",
                    "name": "另一个",
                    "aliases": ["某平台"],
                    "operator": "某某",
                    "place": "北京市",
                },
            ],
            "platforms.x2: name '某平台' already names platform x1",
        ),
        (
            [
                {"code": "x1", "name": "某平台", "operator": "某公司", "place": "北京市"},
                {"code": "x1", "name": "另一个", "operator": "某公司", "place": "北京市"},
            ],
            "platforms: code 'x1' is repeated",
        ),
        ([{"code": "x1", "name": "某平台", "place": "北京市"}], "operator"),
    ],
)
def test_a_registry_with_a_bad_platform_is_refused(
    tmp_path: Path, platforms: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        parse_registry(_registry_with(tmp_path, platforms))


@pytest.mark.usefixtures("sqlite_platform")
def test_a_complaint_about_a_platform_seller_is_routed_to_the_office_that_forwards_it(
    client: TestClient, session: Session
) -> None:
    filed = client.post(
        "/api/v1/complaints",
        json=valid_filing(
            text="在拼多多买的电热水器漏电，商家不退货，要求退款并赔偿。",
            business_name="某某电器拼多多店",
            business_address=None,
            business_uscc=None,
            region=None,
        ),
    )
    assert filed.status_code == 201, filed.text
    run_worker_until_idle()
    complaint = session.exec(select(Complaint)).one()
    session.refresh(complaint)
    assert complaint.status is Status.routed
    assert (complaint.place_province, complaint.place_county) == ("上海市", "长宁区")
    event = latest_routing_event(session, complaint.id or 0)
    assert event is not None
    assert event.payload["jurisdiction"]["rule"] == "platform"
    assert event.payload["jurisdiction"]["platform"]["code"] == "pinduoduo"
    assert event.payload["jurisdiction"]["outside_jurisdiction"] is True
    # Shanxi has no office in Shanghai: the department's provincial office forwards it.
    assert complaint.office_id is not None
    office = event.payload["office"]
    assert office.endswith("-140000"), office

    # Staff read why on the filing's page, its refusal for lack of jurisdiction filled in
    # with where the citizen should go; operators see it while typing (/classify).
    department = event.payload["department"]
    add_staff(session, "desk1", Role.department, department)
    token = sign_in_page(client, "desk1")
    page = client.get(f"/staff/desk/{complaint.id}").text
    assert "管辖依据：平台注册地（拼多多，上海寻梦信息技术有限公司），不在本省管辖范围" in page
    refuse = page[page.index('id="act-refuse"') :]
    refuse = refuse[: refuse.index("</form>")]
    assert '<option value="not_in_duties" selected>' in refuse
    assert "注册地在上海市长宁区，不属于本机关管辖。请向上海市长宁区市场监督管理部门投诉" in refuse
    sent = client.post(
        f"/staff/desk/{complaint.id}/actions/refuse",
        data={
            "csrf_token": token,
            "reason_code": "not_in_duties",
            "explanation": "该平台经营者注册地在上海市长宁区，请向当地市场监督管理部门投诉。",
        },
    )
    assert sent.status_code == 200, sent.text
    session.refresh(complaint)
    assert complaint.status is Status.refused
    client.cookies.clear()
    add_staff(session, "op1", Role.operator)
    draft = client.post(
        "/api/v1/classify",
        json={"text": "在京东自营买的冰箱不制冷，要求换货"},
        headers=bearer(client, "op1"),
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["jurisdiction"]["rule"] == "platform"
    assert draft.json()["place"]["label"] == "北京市大兴区"


@pytest.mark.usefixtures("sqlite_platform")
def test_each_registry_load_keeps_its_platforms(tmp_path: Path, session: Session) -> None:
    loads = session.exec(select(RegistryLoad)).all()
    assert {p["code"] for p in loads[-1].platforms} >= {"taobao", "jd", "pinduoduo"}
    load_registry(session, parse_registry(_registry_with(tmp_path, [])))
    session.commit()
    latest = session.exec(select(RegistryLoad).order_by(RegistryLoad.id.desc())).first()  # type: ignore[union-attr]
    assert latest is not None
    assert latest.platforms == []
