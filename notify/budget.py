"""Daily SMS budgets per number and overall, counted in Redis (Asia/Shanghai days)."""

from __future__ import annotations

import hashlib

from redis import Redis

from core.timeutil import as_china, utcnow

_TTL_SECONDS = 2 * 24 * 3600


def spend(connection: Redis, *, number: str, per_number: int, overall: int, pool: str = "") -> bool:
    """Count one message against both budgets; False (and nothing counted) if either is spent.

    `pool` names a per-number budget of its own (the overall one is shared): messages that
    anyone can cause to be sent to any number, as sign-in codes are, must not use up the
    texts the number's filings are owed."""
    day = as_china(utcnow()).strftime("%Y%m%d")
    # The number itself never becomes a Redis key.
    digest = hashlib.sha256(number.encode()).hexdigest()[:20]
    number_key = f"sms:budget:{day}:{pool}:{digest}" if pool else f"sms:budget:{day}:{digest}"
    global_key = f"sms:budget:{day}:all"
    pipe = connection.pipeline()
    pipe.incr(number_key)
    pipe.expire(number_key, _TTL_SECONDS)
    pipe.incr(global_key)
    pipe.expire(global_key, _TTL_SECONDS)
    number_count, _, global_count, _ = pipe.execute()
    if number_count > per_number or global_count > overall:
        pipe = connection.pipeline()
        pipe.decr(number_key)
        pipe.decr(global_key)
        pipe.execute()
        return False
    return True
