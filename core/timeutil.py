"""UTC-aware time: stored and compared in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_china(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)


def china_if_naive(moment: datetime) -> datetime:
    """A time given without an offset is China time, the domain's clock (a day read as a
    date-time: its China midnight)."""
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment


def china_today() -> date:
    return as_china(utcnow()).date()


def day_start(moment: datetime | None = None) -> datetime:
    """The start (00:00 China time, in UTC) of the day of `moment`, default today.

    What a tip-off's records carry instead of a time: the day, nothing finer.
    """
    day = as_china(moment or utcnow()).date()
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)


def stamp(*, coarse: bool) -> datetime:
    """Now, or only today's start when the record concerns a tip-off (`coarse`)."""
    return day_start() if coarse else utcnow()
