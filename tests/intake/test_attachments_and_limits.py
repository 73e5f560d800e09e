"""Attachments checked by content; body size, and per-address and per-number rate limits."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from core import migrate
from core.db import get_engine
from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
from schemas import Attachment, Complaint, ComplaintEvent, OutboxMessage
from schemas.enums import Role
from tests.helpers import add_staff, bearer, run_worker_until_idle, valid_filing


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _count(table: object) -> int:
    with Session(get_engine(read_only=True)) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())  # type: ignore[arg-type]


@pytest.fixture
def limited(
    configure: Callable[..., None], sqlite_url: str, redis_url: str
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def _make(**settings: str) -> TestClient:
        configure(database_url=sqlite_url, redis_url=redis_url, **settings)
        migrate.upgrade()
        with Session(get_engine()) as session:
            if not session.exec(select(func.count()).select_from(Complaint)).one():
                load_registry(session, parse_registry(DEFAULT_REGISTRY))
                session.commit()
        from service.app import create_app

        client = TestClient(create_app())
        clients.append(client)
        return client

    yield _make
    for client in clients:
        client.close()


def _attachment_files(root: Path) -> list[Path]:
    return (
        [p for p in (root / "attachments").rglob("*") if p.is_file()]
        if (root / "attachments").exists()
        else []
    )


def test_an_attachment_is_stored_by_hash_and_served_only_to_staff_who_see_the_filing(
    sqlite_platform: str, client: TestClient, session: Session, tmp_path: Path
) -> None:
    image = png_bytes()
    up = client.post("/api/v1/attachments", files={"file": ("小票.png", image, "image/png")})
    assert up.status_code == 201, up.text
    token = up.json()["id"]
    assert up.json()["content_type"] == "image/png"
    pdf = client.post(
        "/api/v1/attachments", files={"file": ("contract.pdf", PDF, "application/octet-stream")}
    )
    assert pdf.json()["content_type"] == "application/pdf"  # judged by content, not by the claim
    same = client.post("/api/v1/attachments", files={"file": ("again.png", image, "image/png")})
    assert same.json()["sha256"] == up.json()["sha256"]
    assert len(_attachment_files(tmp_path / "var")) == 2  # the same bytes are stored once

    filed = client.post(
        "/api/v1/complaints", json=valid_filing(attachments=[token, pdf.json()["id"]])
    )
    assert filed.status_code == 201, filed.text
    run_worker_until_idle()
    add_staff(session, "zj", Role.department, "quality")
    add_staff(session, "zhujian", Role.department, "housing")
    complaint_id = session.exec(select(Complaint)).one().id
    view = client.get(f"/api/v1/complaints/{complaint_id}", headers=bearer(client, "zj")).json()
    assert [a["content_type"] for a in view["attachments"]] == ["image/png", "application/pdf"]
    download = client.get(view["attachments"][0]["url"], headers=bearer(client, "zj"))
    assert download.status_code == 200
    assert download.content == image
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert (
        client.get(view["attachments"][0]["url"], headers=bearer(client, "zhujian")).status_code
        == 404
    )
    assert client.get(view["attachments"][0]["url"]).status_code == 401


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.png", b"<script>alert(1)</script>"),
        ("notes.txt", "文本文件".encode()),
        ("empty.pdf", b""),
    ],
)
def test_files_that_are_not_images_or_pdf_are_415_and_not_kept(
    sqlite_platform: str, client: TestClient, tmp_path: Path, name: str, content: bytes
) -> None:
    answer = client.post("/api/v1/attachments", files={"file": (name, content, "image/png")})
    assert answer.status_code == 415
    assert answer.json()["error"] == "UnsupportedMediaType"
    assert _count(Attachment) == 0
    assert _attachment_files(tmp_path / "var") == []


def test_an_attachment_can_be_used_once_and_must_exist(
    sqlite_platform: str, client: TestClient
) -> None:
    token = client.post(
        "/api/v1/attachments", files={"file": ("a.pdf", PDF, "application/pdf")}
    ).json()["id"]
    assert (
        client.post("/api/v1/complaints", json=valid_filing(attachments=[token])).status_code == 201
    )
    reused = client.post("/api/v1/complaints", json=valid_filing(attachments=[token]))
    assert reused.status_code == 422
    assert "already used" in reused.text
    unknown = client.post("/api/v1/complaints", json=valid_filing(attachments=["f" * 32]))
    assert unknown.status_code == 422
    malformed = client.post(
        "/api/v1/complaints", json=valid_filing(attachments=["../../etc/passwd"])
    )
    assert malformed.status_code == 422
    assert _count(Complaint) == 1


def test_an_oversized_attachment_is_413_and_not_kept(
    limited: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = limited(attachment_max_bytes="2048")
    big = b"%PDF-1.4\n" + b"0" * 4096
    answer = client.post("/api/v1/attachments", files={"file": ("big.pdf", big, "application/pdf")})
    assert answer.status_code == 413
    assert _count(Attachment) == 0
    assert _attachment_files(tmp_path / "var") == []


def test_an_oversized_body_is_refused_before_parsing(limited: Callable[..., TestClient]) -> None:
    client = limited(max_body_bytes="2048")
    answer = client.post("/api/v1/complaints", json=valid_filing(text="长" * 3000))
    assert answer.status_code == 413
    assert answer.json()["error"] == "PayloadTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"kind": "complaint", "text": "'
        for _ in range(100):
            yield "长".encode() * 100
        yield b'"}'

    streamed = client.post(
        "/api/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (_count(Complaint), _count(ComplaintEvent), _count(OutboxMessage)) == (0, 0, 0)


def test_too_many_filings_from_one_address_are_429_with_retry_after(
    limited: Callable[..., TestClient],
) -> None:
    client = limited(rate_limit_filings_per_ip_per_hour="3")
    phones = ["13800000001", "13800000002", "13800000003", "13800000004"]
    answers = [
        client.post("/api/v1/complaints", json=valid_filing(contact_phone=p)) for p in phones
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600
    assert answers[-1].json()["error"] == "TooManyRequests"
    assert _count(Complaint) == 3


def test_too_many_filings_from_one_number_are_429(limited: Callable[..., TestClient]) -> None:
    client = limited(rate_limit_filings_per_phone_per_day="2")
    answers = [client.post("/api/v1/complaints", json=valid_filing()) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) <= 24 * 3600
    other = client.post("/api/v1/complaints", json=valid_filing(contact_phone="13900009999"))
    assert other.status_code == 201
    assert _count(Complaint) == 3


def test_a_filing_refused_for_its_address_does_not_use_up_its_numbers_quota(
    limited: Callable[..., TestClient],
) -> None:
    # Both limits are counted in one round trip; the first one exceeded stops the count, so
    # a flood from one address cannot spend someone's phone number's daily filings.
    client = limited(
        rate_limit_filings_per_ip_per_hour="1", rate_limit_filings_per_phone_per_day="2"
    )
    phone = "13800000077"
    first = client.post("/api/v1/complaints", json=valid_filing(contact_phone=phone))
    assert first.status_code == 201
    for _ in range(3):
        refused = client.post("/api/v1/complaints", json=valid_filing(contact_phone=phone))
        assert refused.status_code == 429
        assert "address" in refused.json()["detail"]
    from_elsewhere = TestClient(client.app, client=("203.0.113.9", 50000))
    second = from_elsewhere.post("/api/v1/complaints", json=valid_filing(contact_phone=phone))
    assert second.status_code == 201, second.text  # the number's 2nd filing of the day
    third = TestClient(client.app, client=("203.0.113.10", 50000)).post(
        "/api/v1/complaints", json=valid_filing(contact_phone=phone)
    )
    assert third.status_code == 429
    assert "phone number" in third.json()["detail"]
    assert _count(Complaint) == 2


def test_limits_are_not_enforced_while_redis_is_unreachable(
    limited: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Intake keeps taking filings when Redis is down; the limit waits for it to come back.
    from redis import Redis

    client = limited(rate_limit_filings_per_ip_per_hour="1")
    monkeypatch.setattr("intake.limits.get_redis", lambda: Redis(port=1, socket_timeout=0.2))
    answers = [client.post("/api/v1/complaints", json=valid_filing()) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
