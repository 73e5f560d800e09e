"""UTC-aware time: stored and compared in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")
# The days a period may start or end on: reports turn them into China midnights in UTC (and
# until's next day), which the far ends of the calendar cannot hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


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


def out_of_range(day: date | None) -> bool:
    return day is not None and not FIRST_DAY <= day <= LAST_DAY


def check_period(
    since: date | None, until: date | None, *, names: tuple[str, str] = ("since", "until")
) -> None:
    """InvalidInput (naming the field) for a day a report cannot hold, or since after until."""
    for name, day in zip(names, (since, until), strict=True):
        if out_of_range(day):
            raise InvalidInput(f"{name} must be a day from {FIRST_DAY} to {LAST_DAY}", field=name)
    if since and until and since > until:
        raise InvalidInput(f"{names[0]} must not be after {names[1]}", field=names[0])
