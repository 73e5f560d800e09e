"""Filing rate limits per client address and per contact number, counted in Redis.

Fixed windows: simple, and enough to stop a flood. If Redis cannot be reached the limit
is not enforced: intake must keep taking filings while Redis is down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from redis.exceptions import RedisError

from core.errors import PlatformError
from core.redis import get_redis
from core.settings import get_settings

log = logging.getLogger(__name__)


class TooManyRequests(PlatformError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


def _bucket(kind: str, identity: str) -> str:
    # Keyed hash: neither addresses nor phone numbers appear in Redis.
    key = get_settings().signing_key().encode()
    return f"rl:{kind}:{hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:24]}"


def check(kind: str, identity: str, *, limit: int, window_seconds: int, what: str) -> None:
    now = int(time.time())
    window = now // window_seconds
    key = f"{_bucket(kind, identity)}:{window}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 60)
        count, _ = pipe.execute()
    except RedisError:
        log.warning("rate limit %s not checked: Redis unreachable", kind)
        return
    if int(count) > limit:
        retry_after = (window + 1) * window_seconds - now
        raise TooManyRequests(
            f"too many {what}; try again in {retry_after} seconds", retry_after=retry_after
        )


def check_client(address: str | None) -> None:
    check(
        "ip",
        address or "unknown",
        limit=get_settings().rate_limit_filings_per_ip_per_hour,
        window_seconds=3600,
        what="filings from this address",
    )


def check_phone(phone: str) -> None:
    check(
        "phone",
        phone,
        limit=get_settings().rate_limit_filings_per_phone_per_day,
        window_seconds=24 * 3600,
        what="filings from this phone number today",
    )
