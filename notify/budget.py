"""Daily SMS budgets per number and overall, counted in Redis (Asia/Shanghai days)."""

from __future__ import annotations

import hashlib

from redis import Redis

from core.timeutil import as_china, utcnow

_TTL_SECONDS = 2 * 24 * 3600


def spend(connection: Redis, *, number: str, per_number: int, overall: int) -> bool:
    """Count one message against both budgets; False (and nothing counted) if either is spent."""
    day = as_china(utcnow()).strftime("%Y%m%d")
    # The number itself never becomes a Redis key.
    number_key = f"sms:budget:{day}:{hashlib.sha256(number.encode()).hexdigest()[:20]}"
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
