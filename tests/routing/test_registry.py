import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from sqlmodel import Session, select

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

from core.errors import InvalidInput
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas import Department, RegistryLoad

SHIPPED = sorted(DEFAULT_REGISTRY.parent.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_registries_are_valid(path: Path) -> None:
    registry = parse_registry(path).registry
    assert registry.triage_code == "triage"
    assert len(registry.departments) >= 10
    for dept in registry.departments:
        if not dept.triage:
            assert dept.keywords, dept.code
            assert dept.duties, dept.code


def test_default_registry_follows_section_six_of_the_seed() -> None:
    names = " ".join(d.name for d in parse_registry(DEFAULT_REGISTRY).registry.departments)
    for department in (
        "质量技术监督",
        "住房",
        "水利",
        "交通运输",
        "农业",
        "商务",
        "工商",
        "卫生",
        "食品药品",
        "通信管理",
        "旅游",
    ):
        assert department in names


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _minimal(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema": 1,
        "version": "t1",
        "name": "测试目录",
        "sectors": {"housing": "住房"},
        "departments": [
            {"code": "triage", "name": "人工分拣", "triage": True},
            {"code": "housing", "name": "住建部门", "sectors": ["housing"], "keywords": ["物业"]},
        ],
    }
    data.update(changes)
    return data


BAD_FILES = [
    (_minimal(schema=2), "schema 2 is not supported"),
    (_minimal(version=""), "version"),
    (_minimal(departments=[{"code": "triage", "name": "分拣", "triage": True}]), "at least 2"),
    (
        _minimal(
            departments=[
                {"code": "a1", "name": "甲", "keywords": ["x"]},
                {"code": "a2", "name": "乙", "keywords": ["y"]},
            ]
        ),
        "exactly one department must have triage",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "triage", "name": "又一个", "keywords": ["x"]},
            ]
        ),
        "repeated",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "Bad-Code", "name": "乙", "keywords": ["y"]},
            ]
        ),
        "departments.1.code",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "b", "name": "乙", "keywords": ["y"]},
            ]
        ),
        "departments.1.code",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "bb", "name": "乙", "sectors": ["nope"], "keywords": ["y"]},
            ]
        ),
        "sectors not declared",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "bb", "name": "乙"},
            ]
        ),
        "needs keywords or aliases",
    ),
    (
        _minimal(
            departments=[
                {"code": "triage", "name": "分拣", "triage": True},
                {"code": "bb", "name": "乙", "keywords": ["y"], "colour": "red"},
            ]
        ),
        "Extra inputs",
    ),
    (["not", "a", "mapping"], "expected a mapping"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_bad_registry_files_are_refused_with_the_reason(
    tmp_path: Path, data: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.")):
        parse_registry(_write(tmp_path, data))


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("departments: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        parse_registry(broken)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        parse_registry(latin)
    with pytest.raises(InvalidInput, match="cannot read"):
        parse_registry(tmp_path / "missing.yaml")


def test_loading_a_new_registry_updates_and_deactivates_but_never_deletes(
    sqlite_platform: str, session: Session, tmp_path: Path
) -> None:
    before = {d.code for d in session.exec(select(Department)).all()}
    summary = load_registry(session, parse_registry(_write(tmp_path, _minimal(version="t2"))))
    session.commit()
    assert summary.updated == ["triage", "housing"]
    assert summary.added == []
    assert set(summary.deactivated) == before - {"triage", "housing"}
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    assert set(departments) == before
    assert departments["housing"].keywords == ["物业"]
    assert departments["housing"].registry_version == "t2"
    assert not departments["quality"].active
    assert (
        session.exec(select(RegistryLoad).order_by(RegistryLoad.id.desc())).first().version == "t2"
    )  # type: ignore[union-attr]


def test_departments_load_command_refuses_a_bad_file_and_changes_nothing(
    sqlite_platform: str, session: Session, tmp_path: Path
) -> None:
    loads_before = len(session.exec(select(RegistryLoad)).all())
    path = _write(tmp_path, _minimal(schema=2))
    result = subprocess.run(
        [sys.executable, "-m", "service", "departments", "load", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "schema 2 is not supported" in result.stderr
    assert len(session.exec(select(RegistryLoad)).all()) == loads_before
    assert session.exec(select(Department).where(Department.code == "quality")).one().active


def test_departments_load_command_loads_a_good_file(
    sqlite_platform: str, session: Session, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service",
            "departments",
            "load",
            str(_write(tmp_path, _minimal(version="t3"))),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "registry t3 loaded: 0 added, 2 updated" in result.stdout


def _routed_filings(client: "TestClient", count: int) -> list[int]:
    from tests.helpers import run_worker_until_idle, valid_filing
    from tests.rewards.test_vault import complaint_id

    ids = []
    for n in range(count):
        answer = client.post(
            "/api/v1/complaints", json=valid_filing(contact_phone=f"1381234000{n}")
        )
        assert answer.status_code == 201, answer.text
        ids.append(complaint_id(answer.json()["tracking_number"]))
    run_worker_until_idle()
    return ids


def test_a_registry_without_a_department_sends_its_untaken_filings_back_to_triage(
    sqlite_platform: str, session: Session
) -> None:
    """After the 2018 merger quality is gone: a filing it had not yet taken on would wait in
    a queue no new account can join, its clock running; it goes to triage to be routed
    again. One quality had accepted stays with it, its staff finishing what they began."""
    from fastapi.testclient import TestClient

    from schemas import Complaint
    from schemas.enums import Role, Status
    from service.app import create_app
    from tests.helpers import add_staff, bearer

    add_staff(session, "zj", Role.department, "quality")
    with TestClient(create_app()) as client:
        waiting, taken = _routed_filings(client, 2)
        accepted = client.post(
            f"/api/v1/complaints/{taken}/actions/accept", json={}, headers=bearer(client, "zj")
        )
        assert accepted.status_code == 200, accepted.text
        summary = load_registry(
            session, parse_registry(DEFAULT_REGISTRY.with_name("samr_merged.yaml"))
        )
        session.commit()
        assert summary.requeued == 1
        session.expire_all()
        departments = {d.id: d.code for d in session.exec(select(Department)).all()}
        rows = {c.id: c for c in session.exec(select(Complaint)).all()}
        assert (rows[waiting].status, departments[rows[waiting].department_id]) == (
            Status.triage,
            "triage",
        )
        assert rows[waiting].office_id is None
        assert (rows[taken].status, departments[rows[taken].department_id]) == (
            Status.accepted,
            "quality",
        )
        timeline = client.get(f"/api/v1/track/{rows[waiting].tracking_number}").json()["timeline"]
        assert timeline[-1]["note"] == "转人工分拣，重新确定承办部门"
        again = load_registry(
            session, parse_registry(DEFAULT_REGISTRY.with_name("samr_merged.yaml"))
        )
        assert again.requeued == 0


def test_a_registry_without_an_office_moves_its_untaken_filings_to_the_office_now_in_charge(
    sqlite_platform: str, session: Session, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from routing.repository import office_by_code
    from schemas import Complaint
    from service.app import create_app

    with TestClient(create_app()) as client:
        [filing] = _routed_filings(client, 1)
    county = office_by_code(session, "quality-140105")
    assert county is not None
    assert session.get(Complaint, filing).office_id == county.id  # type: ignore[union-attr]
    text = DEFAULT_REGISTRY.read_text(encoding="utf-8").replace(
        '{levels: [province, city, county], name: "{place}质量技术监督局"}',
        '{levels: [province, city], name: "{place}质量技术监督局"}',
    )
    smaller = tmp_path / "cities.yaml"
    smaller.write_text(text.replace("version: ", "version: c", 1), encoding="utf-8")
    summary = load_registry(session, parse_registry(smaller))
    session.commit()
    assert (summary.requeued, summary.reassigned) == (0, 1)
    session.expire_all()
    city = office_by_code(session, "quality-140100")
    assert city is not None
    assert session.get(Complaint, filing).office_id == city.id  # type: ignore[union-attr]
