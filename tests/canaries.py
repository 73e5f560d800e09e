"""Canary values for the privacy tests, and the dumps they are searched for in: every key of
the Redis test database (job hashes decoded), every row of every table, files, logs."""

from __future__ import annotations

import io
import logging
import pickle
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from redis import Redis
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from service.logs import PlatformFormatter

# Who the reporter is: must appear nowhere in plaintext (the vault holds it sealed).
NAME = "甄金丝雀"
PHONE = "13900007777"
ID_NUMBER = "11010519491231002X"
BANK_ACCOUNT = "6222020200112233445"
BANK_NAME = "金丝雀农村商业银行"
AGENT = "CanaryBrowser/9.9 (Mozilla)"
FORWARDED = "203.0.113.77"
IDENTITY = [NAME, PHONE, "+86" + PHONE, ID_NUMBER, BANK_ACCOUNT, BANK_NAME]
# Where the request came from: stored and logged nowhere for a tip-off.
CLIENT = [AGENT, FORWARDED, "testclient"]
# What the reporter wrote: the department reads it on the filing, and nowhere else may it
# be (not in job payloads, logs, files or any other table).
TIP_PHRASE = "蓝鲸暗号柒肆壹"
ANSWER_PHRASE = "白鹭回声玖伍贰"
TIP_TEXT = (
    f"举报某某食品厂用过期原料生产月饼，暗号{TIP_PHRASE}。我是该厂员工{NAME}，"
    f"电话{PHONE}，身份证{ID_NUMBER}，可以提供进货单。"
)
ANSWER_TEXT = f"进货单在仓库二楼，{ANSWER_PHRASE}，联系我{PHONE}。"


def leaks(text: str, canaries: Iterable[str]) -> list[str]:
    return [canary for canary in canaries if canary in text]


def byte_leaks(data: bytes, canaries: Iterable[str]) -> list[str]:
    return [canary for canary in canaries if canary.encode() in data]


def _decoded(value: bytes) -> bytes:
    """A Redis value as readable as it gets: RQ zlib-compresses pickled job data."""
    try:
        value = zlib.decompress(value)
    except zlib.error:
        return value
    try:
        return value + repr(pickle.loads(value)).encode()  # noqa: S301  (our own test Redis)
    except Exception:
        return value


def redis_dump(redis_url: str) -> dict[str, bytes]:
    """Every key of the database with everything it holds, decoded where RQ encoded it."""
    connection = Redis.from_url(redis_url)
    dump: dict[str, bytes] = {}
    for raw_key in connection.scan_iter(count=1000):
        key = raw_key.decode("utf-8", "replace")
        kind = connection.type(raw_key).decode()
        parts: list[bytes] = [raw_key]
        if kind == "string":
            parts.append(connection.get(raw_key) or b"")
        elif kind == "hash":
            for field, value in connection.hgetall(raw_key).items():
                parts += [field, _decoded(value)]
        elif kind == "list":
            parts += connection.lrange(raw_key, 0, -1)
        elif kind == "set":
            parts += list(connection.smembers(raw_key))
        elif kind == "zset":
            parts += [member for member, _ in connection.zrange(raw_key, 0, -1, withscores=True)]
        elif kind == "stream":
            for _id, fields in connection.xrange(raw_key):
                for field, value in fields.items():
                    parts += [field, _decoded(value)]
        else:
            raise AssertionError(f"a Redis {kind} the privacy scan does not read: {key}")
        dump[key] = b"\n".join(parts)
    connection.close()
    return dump


def db_dump(session: Session) -> list[tuple[str, str, Any]]:
    """Every value of every column of every table: (table, column, value)."""
    values = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            values += [(table.name, column, value) for column, value in row.items()]
    return values


def files_with(root: Path, canaries: Iterable[str]) -> list[tuple[str, str]]:
    """(path, canary) for every file under `root` whose name or bytes hold a canary."""
    canaries = list(canaries)
    found = []
    for path in root.rglob("*"):
        found += [(str(path), c) for c in leaks(path.name, canaries)]
        if path.is_file():
            found += [(str(path), c) for c in byte_leaks(path.read_bytes(), canaries)]
    return found


def not_the_test_client(record: logging.LogRecord) -> bool:
    """The test's own TestClient logs each request it sends (httpx): not the platform's words.
    The platform's own httpx calls (webhooks, SMS gateways) go elsewhere and stay in."""
    return not (record.name == "httpx" and "http://testserver/" in record.getMessage())


@contextmanager
def platform_log(*also: str) -> Iterator[io.StringIO]:
    """Everything logged meanwhile, formatted as the platform's processes write it; `also`
    names loggers that do not propagate to the root (uvicorn's, as a test server sets them)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PlatformFormatter("test"))
    handler.setLevel(logging.DEBUG)
    handler.addFilter(not_the_test_client)
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in also)]
    old_level = loggers[0].level
    for logger in loggers:
        logger.addHandler(handler)
    loggers[0].setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        loggers[0].setLevel(old_level)
