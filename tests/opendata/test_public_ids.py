"""Open data publishes public ids, not database ids: complaints, inquiries and tip-offs share
one id sequence, so published row ids would show by their gaps when a tip-off came in, and a
split call's complaint would sit next to its tip-off."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.db import get_engine
from core.settings import get_settings
from opendata.public_ids import public_id, row_id
from schemas.complaint import Complaint
from tests.helpers import run_worker_until_idle, valid_filing

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COMPLAINTS_SECRET_KEY", "public-ids-test-key-" + "k" * 32)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _other_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_SECRET_KEY", "another-deployment-key-" + "q" * 32)
    get_settings.cache_clear()


def test_public_ids_round_trip_and_are_in_no_order(keyed: None) -> None:
    ids = [public_id(n) for n in range(1, 201)]
    assert all(HEX32.fullmatch(p) for p in ids)
    assert [row_id(p) for p in ids] == list(range(1, 201))
    assert [row_id(p.upper()) for p in ids[:3]] == [1, 2, 3]
    assert len(set(ids)) == len(ids)
    assert public_id(7) == public_id(7)  # stable: exports can be joined over time
    # In no order: sorting the public ids does not sort the row ids, and neighbours differ
    # in about half their bits.
    assert sorted(ids) != ids
    assert sorted(ids, reverse=True) != ids
    for a, b in pairwise(ids):
        differing = bin(int(a, 16) ^ int(b, 16)).count("1")
        assert 20 < differing < 108, (a, b)
    with pytest.raises(ValueError, match="out of range"):
        public_id(0)
    with pytest.raises(ValueError, match="out of range"):
        public_id(2**63)


@pytest.mark.parametrize(
    "text",
    ["1", "42", "0" * 32, "f" * 32, "z" * 32, "", "0" * 31, "0" * 33, "１" * 32],
)
def test_what_is_not_a_public_id_maps_to_nothing(keyed: None, text: str) -> None:
    assert row_id(text) is None


def test_a_tampered_public_id_maps_to_nothing(keyed: None) -> None:
    made = public_id(12345)
    for position in range(32):
        digit = "0" if made[position] != "0" else "1"
        assert row_id(made[:position] + digit + made[position + 1 :]) is None


def test_another_key_makes_other_ids_and_cannot_read_ours(
    keyed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = [public_id(n) for n in (1, 2, 3)]
    _other_key(monkeypatch)
    theirs = [public_id(n) for n in (1, 2, 3)]
    assert set(ours).isdisjoint(theirs)
    assert [row_id(p) for p in ours] == [None, None, None]


def _row_ids(numbers: list[str]) -> list[int]:
    with Session(get_engine(read_only=True)) as session:
        found = {
            number: row
            for number, row in session.exec(
                select(Complaint.tracking_number, Complaint.id).where(
                    col(Complaint.tracking_number).in_(numbers)
                )
            ).all()
        }
    return [int(found[n]) for n in numbers if found[n] is not None]


def _file(client: TestClient, **overrides: object) -> str:
    answer = client.post("/api/v1/complaints", json=valid_filing(**overrides))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["tracking_number"])


def test_the_published_ids_hide_a_tip_off_between_two_complaints(
    platform: str, client: TestClient, tmp_path: Path
) -> None:
    first = _file(client)
    tip = _file(
        client,
        kind="tip",
        contact_phone=None,
        text="举报某仓库在卖假冒的电热水器，请查处。",
        business_name="某某电器仓库",
    )
    second = _file(client, text="买的电饭煲用了三天就坏了，商家不给退换，请帮忙处理。")
    run_worker_until_idle()
    first_row, tip_row, second_row = _row_ids([first, tip, second])
    assert (tip_row, second_row) == (first_row + 1, first_row + 2)  # one sequence

    data = client.get("/api/v1/open-data/complaints", params={"format": "json"}).json()["data"]
    published = [row["id"] for row in data]
    assert len(published) == 2
    assert all(isinstance(p, str) and HEX32.fullmatch(p) for p in published)
    assert published == [public_id(first_row), public_id(second_row)]
    # Nothing of the row ids shows: not the ids, not their distance, not the tip-off's.
    one, two = (int(p, 16) for p in published)
    assert abs(two - one) > 2**64
    body = json.dumps(data) + client.get("/api/v1/open-data/complaints").text
    assert public_id(tip_row) not in body
    for number in (first_row, tip_row, second_row):
        assert not re.search(rf"(?<![0-9a-f]){number}(?![0-9a-f])", body), number
    # The same ids in the CSV, in Open311 and from the command: stable across exports.
    rows = client.get("/api/v1/open-data/complaints").text.splitlines()[1:]
    assert [line.split(",")[0] for line in rows] == published
    requests = client.get("/open311/v2/requests.json").json()
    assert sorted(r["service_request_id"] for r in requests) == sorted(published)
    out = tmp_path / "open.json"
    command = [sys.executable, "-m", "service", "opendata", "export", "--format", "json"]
    done = subprocess.run(
        [*command, "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(out.read_text())["data"]] == published


def test_open311_reads_a_request_by_its_public_id_only(platform: str, client: TestClient) -> None:
    number = _file(client)
    tip = _file(client, kind="tip", contact_phone=None, text="举报某仓库在卖假冒的电热水器。")
    run_worker_until_idle()
    row, tip_row = _row_ids([number, tip])
    public = public_id(row)

    found = client.get(f"/open311/v2/requests/{public}.json")
    assert found.status_code == 200, found.text
    assert [r["service_request_id"] for r in found.json()] == [public]
    as_xml = client.get(f"/open311/v2/requests/{public}.xml")
    assert f"<service_request_id>{public}</service_request_id>" in as_xml.text
    listed = client.get("/open311/v2/requests.json", params={"service_request_id": public})
    assert [r["service_request_id"] for r in listed.json()] == [public]

    # The raw id, the tip-off's public id and a guess all answer as an unknown id does.
    for unknown in (
        str(row),
        public_id(tip_row),
        public[:-1] + ("0" if public[-1] != "0" else "1"),
    ):
        missing = client.get(f"/open311/v2/requests/{unknown}")
        assert missing.status_code == 404, (unknown, missing.text)
        assert missing.json() == [{"code": 404, "description": f"no request {unknown}"}]
        missing_xml = client.get(f"/open311/v2/requests/{unknown}.xml")
        assert missing_xml.status_code == 404
        assert missing_xml.text.endswith(
            f"<errors><error><code>404</code><description>no request {unknown}</description>"
            "</error></errors>"
        )
        filtered = client.get("/open311/v2/requests.json", params={"service_request_id": unknown})
        assert filtered.status_code == 200
        assert filtered.json() == []
