"""UTC-aware time: stored and compared in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_china(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)
