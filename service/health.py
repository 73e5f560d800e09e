"""Liveness and readiness: /healthz says the process runs, /readyz that it can do its work."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db import get_engine
from core.redis import EvictingRedis, get_redis, require_noeviction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    database: str  # "ok" or why not
    redis: str

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.redis == "ok"


def check_readiness() -> Readiness:
    """Both stores answer (and Redis will not evict queued jobs); each failure says why."""
    return Readiness(database=_database(), redis=_redis())


def _database() -> str:
    try:
        with get_engine(read_only=True).connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _redis() -> str:
    try:
        connection = get_redis()
        connection.ping()
        require_noeviction(connection)
    except EvictingRedis as exc:
        return str(exc)
    except RedisError as exc:
        log.warning("readiness: Redis unreachable (%s)", type(exc).__name__)
        return f"unreachable: {type(exc).__name__}"
    return "ok"
