"""The worker routes with a trained model; unsure decisions go to triage with suggestions;
staff corrections become training examples."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from classifiers.training import train
from core import migrate
from core.db import get_engine
from routing.corrections import department_labels
from routing.registry import load_registry, parse_registry
from schemas import Complaint, ComplaintEvent, RoutingCorrection
from schemas.enums import Role, Status
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing

TRAIN_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "haikou12345" / "train.csv"
TEXT, LABEL = "诉求内容", "处置单位"


@pytest.fixture(scope="module")
def haikou(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rows = list(csv.DictReader(TRAIN_CSV.open(encoding="utf-8")))
    labels = [label for label, _ in Counter(r[LABEL] for r in rows).most_common(8)]
    chosen = [r for r in rows if r[LABEL] in labels]
    # A demanding target precision gives a threshold that unsure texts fall below.
    model = train(
        [r[TEXT] for r in chosen[:1000]],
        [r[LABEL] for r in chosen[:1000]],
        seed=0,
        target_precision=0.99,
    )
    folder = tmp_path_factory.mktemp("haikou")
    path = model.save(folder / "haikou.model")
    registry = {
        "schema": 1,
        "version": "haikou-test",
        "name": "按海口12345工单承办单位建立的测试目录",
        "departments": [
            {"code": "triage", "name": "人工分拣", "triage": True},
            *(
                {"code": f"d{i:02d}", "name": label, "aliases": [label]}
                for i, label in enumerate(labels)
            ),
        ],
    }
    registry_path = folder / "registry.yaml"
    registry_path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    held_out = [(r[TEXT], r[LABEL]) for r in chosen[1000:1040]]
    codes = {label: f"d{i:02d}" for i, label in enumerate(labels)}
    return {"model": path, "registry": registry_path, "held_out": held_out, "codes": codes}


@pytest.fixture
def trained_platform(
    configure: Callable[..., None], sqlite_url: str, redis_url: str, haikou: dict[str, Any]
) -> None:
    configure(database_url=sqlite_url, redis_url=redis_url, classifier_model=str(haikou["model"]))
    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(haikou["registry"]))
        session.commit()


_phones = iter(range(10_000))


def _file(client: TestClient, text: str) -> str:
    phone = f"1380000{next(_phones):04d}"  # each its own citizen: no per-number limit reached
    body = valid_filing(
        text=text[:5000],
        contact_phone=phone,
        business_name="某单位",
        business_uscc=None,
        business_address=None,
        region=None,
    )
    answer = client.post("/api/v1/complaints", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["tracking_number"])


@pytest.mark.usefixtures("trained_platform")
def test_the_worker_routes_with_the_trained_model(
    client: TestClient, haikou: dict[str, Any]
) -> None:
    samples = [(t, label) for t, label in haikou["held_out"] if len(t) >= 10][:20]
    numbers = [_file(client, text) for text, _ in samples]
    run_worker_until_idle()
    right = routed = 0
    with Session(get_engine(read_only=True)) as session:
        for number, (_, label) in zip(numbers, samples, strict=True):
            complaint = session.exec(
                select(Complaint).where(Complaint.tracking_number == number)
            ).one()
            event = session.exec(
                select(ComplaintEvent)
                .where(ComplaintEvent.complaint_id == complaint.id)
                .where(ComplaintEvent.actor == "system:router")
            ).one()
            assert event.payload["classifier"] == "linear"
            assert len(event.payload["top"]) == 3
            assert all(s["department"] for s in event.payload["top"])
            if complaint.status is Status.routed:
                routed += 1
                right += event.payload["department"] == haikou["codes"][label]
            else:
                assert event.payload["top"][0]["score"] < event.payload["threshold"]
    assert routed >= 10  # held-out rows, 8 departments
    assert right / routed >= 0.9  # what the threshold was chosen for


@pytest.mark.usefixtures("trained_platform")
def test_an_unsure_decision_goes_to_triage_with_the_top_three(client: TestClient) -> None:
    number = _file(client, "你好，我有一个事情想反映一下，具体情况比较复杂，谢谢。")
    run_worker_until_idle()
    with Session(get_engine(read_only=True)) as session:
        complaint = session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()
        assert complaint.status is Status.triage
        event = session.exec(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint.id)
            .where(ComplaintEvent.actor == "system:router")
        ).one()
    assert "below the threshold" in event.reason
    assert len(event.payload["top"]) == 3
    assert event.payload["top"][0]["score"] < event.payload["threshold"]


@pytest.mark.usefixtures("trained_platform")
def test_classify_answers_with_the_trained_model(client: TestClient, session: Session) -> None:
    add_staff(session, "op", Role.operator)
    answer = client.post(
        "/api/v1/classify",
        json={"text": "市民来电反映：某路口红绿灯故障，车辆拥堵，请交警到现场指挥"},
        headers=bearer(client, "op"),
    ).json()
    assert answer["classifier"] == "linear"
    assert "交通警察" in answer["suggestions"][0]["label"]
    assert answer["suggestions"][0]["reasons"]


@pytest.mark.usefixtures("trained_platform")
def test_corrections_feed_train_from_db(
    client: TestClient, session: Session, tmp_path: Path, haikou: dict[str, Any]
) -> None:
    numbers = [_file(client, text) for text, _ in haikou["held_out"][:6] if len(text) >= 10]
    run_worker_until_idle()
    add_staff(session, "boss", Role.supervisor)
    headers = bearer(client, "boss")
    for number in numbers:
        complaint = session.exec(select(Complaint).where(Complaint.tracking_number == number)).one()
        current = complaint.department_id
        target = "d01" if current is None or current != _department_id(session, "d01") else "d02"
        moved = client.post(
            f"/api/v1/complaints/{complaint.id}/actions/transfer",
            json={"department": target, "reason": "人工复核后改派"},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text
    session.expire_all()
    assert len(session.exec(select(RoutingCorrection)).all()) == len(numbers)
    slice_csv = tmp_path / "slice.csv"
    with slice_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([TEXT, LABEL])
        writer.writerows([text, label] for text, label in haikou["held_out"][6:40])
    out = tmp_path / "retrained.model"
    result = _classifier_cli(
        "train",
        "--from-db",
        "--data",
        str(slice_csv),
        "--text-column",
        TEXT,
        "--label-column",
        LABEL,
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(numbers)} labelled examples from staff corrections" in result.stderr
    from classifiers.linear import LinearClassifier

    # The CSV names departments (处置单位), corrections give codes: one class per department,
    # labelled by its code.
    labels = LinearClassifier.load(out, tokenizer=False).labels
    assert "d01" in labels
    assert set(labels) <= set(haikou["codes"].values())
    # Evaluated on a CSV of names, the rows are the departments the model knows.
    evaluated = _classifier_cli(
        "evaluate",
        "--model",
        str(out),
        "--data",
        str(slice_csv),
        "--text-column",
        TEXT,
        "--label-column",
        LABEL,
        "--json",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["unseen_label_rows"] == 0


@pytest.mark.usefixtures("trained_platform")
def test_csv_names_and_correction_codes_become_one_class_per_department(
    session: Session, haikou: dict[str, Any]
) -> None:
    names = list(haikou["codes"])
    mapped = department_labels(session, [names[0], "d00", names[1], "某个不在目录里的单位"])
    assert mapped.labels == ["d00", "d00", "d01", "某个不在目录里的单位"]
    assert mapped.unknown == ["某个不在目录里的单位"]
    assert mapped.registry[names[2]] == "d02"
    assert mapped.registry["d02"] == "d02"


def _classifier_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "classifier", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _department_id(session: Session, code: str) -> int | None:
    from schemas import Department

    return session.exec(select(Department.id).where(Department.code == code)).one()
