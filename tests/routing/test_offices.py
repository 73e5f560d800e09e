from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, select

from classifiers.place import Place
from core.db import get_engine
from core.errors import InvalidInput
from routing.engine import current_engine
from routing.offices import choose_office, office_prefix
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas import Department
from schemas.office import Office


def test_default_registry_has_offices_per_division_of_the_jurisdiction() -> None:
    offices = parse_registry(DEFAULT_REGISTRY).offices
    quality = {o.admin_code: o for o in offices["quality"]}
    assert quality["140000"].name == "山西省质量技术监督局"
    assert quality["140100"].name == "太原市质量技术监督局"
    assert quality["140105"].name == "太原市小店区质量技术监督局"
    assert {o.level for o in offices["quality"]} == {"province", "city", "county"}
    assert len([o for o in offices["quality"] if o.level == "city"]) == 11  # Shanxi's cities
    housing = {o.admin_code: o.name for o in offices["housing"]}
    assert housing["140000"] == "山西省住房和城乡建设厅"
    assert housing["140200"] == "大同市住房和城乡建设局"
    assert [o.name for o in offices["customs"]] == ["太原海关"]
    assert offices["triage"] == []


def _registry(tmp_path: Path, **department: object) -> Path:
    data = {
        "schema": 1,
        "version": "t",
        "name": "t",
        "departments": [
            {"code": "triage", "name": "分拣", "triage": True},
            {"code": "qq", "name": "质监", "keywords": ["电梯"], **department},
        ],
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_explicit_offices_need_a_known_place(tmp_path: Path) -> None:
    ok = parse_registry(
        _registry(tmp_path, offices=[{"place": "山西省太原市小店区", "name": "小店区市场监管局"}])
    )
    assert [(o.code, o.level) for o in ok.offices["qq"]] == [("qq-140105", "county")]
    with pytest.raises(InvalidInput, match="is not a known province, city or county"):
        parse_registry(_registry(tmp_path, offices=[{"place": "火星", "name": "x"}]))


def test_offices_by_level_need_a_jurisdiction(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="need a top-level jurisdiction"):
        parse_registry(_registry(tmp_path, offices=[{"levels": ["city"], "name": "{place}局"}]))


def test_an_office_has_place_or_levels_not_both(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="either `place` or `levels`"):
        parse_registry(
            _registry(tmp_path, offices=[{"place": "太原市", "levels": ["city"], "name": "x"}])
        )


def _office(code: str, level: str) -> Office:
    return Office(
        code=f"q-{code}",
        department_id=1,
        name=code,
        level=level,
        admin_code=code,
        province="山西省",
        registry_version="t",
    )


OFFICES = [_office("140000", "province"), _office("140100", "city"), _office("140105", "county")]


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        (Place("山西省", "太原市", "小店区", "140105"), "140105"),  # its own county office
        (Place("山西省", "太原市", "迎泽区", "140106"), "140100"),  # no county office: the city's
        (Place("山西省", "太原市", None, "140100"), "140100"),
        (Place("山西省", "大同市", None, "140200"), "140000"),  # no city office: the province's
        (Place("北京市", "北京市", "朝阳区", "110105"), "140000"),  # outside: the broadest office
        (None, "140000"),
    ],
)
def test_the_most_specific_office_for_the_place_handles_it(
    place: Place | None, expected: str
) -> None:
    chosen = choose_office(OFFICES, place)
    assert chosen is not None
    assert chosen.admin_code == expected


def test_a_department_without_offices_has_none() -> None:
    assert choose_office([], Place("山西省", "太原市", None, "140100")) is None


def test_an_office_covers_its_own_area_and_below() -> None:
    assert [office_prefix(o) for o in OFFICES] == ["14", "1401", "140105"]


def test_an_explicit_office_for_a_generic_district_is_at_county_level(tmp_path: Path) -> None:
    office = {"place": "山西省阳泉市郊区", "name": "阳泉市郊区市场监管局"}
    [row] = parse_registry(_registry(tmp_path, offices=[office])).offices["qq"]
    assert (row.level, row.admin_code, row.name) == ("county", "140311", "阳泉市郊区市场监管局")


def test_offices_of_a_hainan_registry_are_named_after_real_places(tmp_path: Path) -> None:
    # jionlp files 文昌市 under a 「省直辖行政区划」 and gives 儋州市 a 「市直辖行政区划」
    # with the city's own code: neither is a place, nor has an office.
    path = _registry(
        tmp_path,
        offices=[{"levels": ["province", "city", "county"], "name": "{place}市场监督管理局"}],
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["jurisdiction"] = {"province": "海南省"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    names = {o.admin_code: (o.level, o.name) for o in parse_registry(path).offices["qq"]}
    assert names["460000"] == ("province", "海南省市场监督管理局")
    assert names["460400"] == ("city", "儋州市市场监督管理局")
    assert names["469005"] == ("county", "文昌市市场监督管理局")
    assert "469000" not in names
    assert not any("直辖" in name for _, name in names.values())


def test_the_router_takes_the_offices_of_a_new_registry(
    sqlite_platform: str, tmp_path: Path
) -> None:
    """The routing engine keeps offices in memory: a new registry load must replace them."""
    xiaodian = Place("山西省", "太原市", "小店区", "140105")
    drops_the_city_offices = {
        "schema": 1,
        "version": "t2",
        "name": "t",
        "jurisdiction": {"province": "山西省"},
        "sectors": {"housing": "住房"},
        "departments": [
            {"code": "triage", "name": "分拣", "triage": True},
            {
                "code": "housing",
                "name": "住建部门",
                "sectors": ["housing"],
                "keywords": ["物业"],
                "offices": [{"levels": ["province"], "name": "{place}住房和城乡建设厅"}],
            },
        ],
    }
    path = tmp_path / "t2.yaml"
    path.write_text(yaml.safe_dump(drops_the_city_offices, allow_unicode=True), encoding="utf-8")
    with Session(get_engine()) as session:
        housing = session.exec(select(Department).where(Department.code == "housing")).one()
        assert housing.id is not None
        before = current_engine(session).office_for(housing.id, xiaodian)
        assert before is not None
        assert (before.code, before.name) == ("housing-140100", "太原市住房和城乡建设局")
        load_registry(session, parse_registry(path))
        session.commit()
        after = current_engine(session).office_for(housing.id, xiaodian)
        assert after is not None
        assert (after.code, after.name) == ("housing-140000", "山西省住房和城乡建设厅")
        stored = session.exec(select(Office).where(Office.code == after.code)).one()
        assert (stored.id, stored.active) == (after.id, True)
