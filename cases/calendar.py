"""Working days on the State Council calendar, with its make-up working weekends (调休).

The State Council announces each year's schedule late in the year before, and the pinned
chinese-calendar knows the years up to its release. For a later year the holidays the law
itself fixes are counted (全国年节及纪念日放假办法, as amended in 2024): 1 January; 除夕 and
正月初一 to 初三; 清明; 1 and 2 May; 端午; 中秋; 1 to 3 October; a holiday that falls on a
Saturday or Sunday is given back on the next working day (补假). What only the announcement
says (the 调休 that join them into longer breaks) is for the policy file's extra days.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import chinese_calendar

log = logging.getLogger(__name__)


@lru_cache(maxsize=8192)
def _state_council_workday(day: date) -> bool:
    """chinese-calendar's answer, remembered: every clock started walks the same few weeks."""
    return bool(chinese_calendar.is_workday(day))


@lru_cache(maxsize=16)
def statutory_holidays(year: int) -> frozenset[date]:
    """The days the law gives off in `year`, with a weekend one given back on the next
    weekday that is not already off, in the order of the year."""
    lunar = _lunar_calendar()

    def lunar_day(month: int, day: int) -> date:
        return lunar.to_solar_date(year, month, day).date()

    new_year = lunar_day(1, 1)
    april = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    qingming = [day for day, name in april if name == "清明"]
    days = {
        date(year, 1, 1),
        new_year - timedelta(days=1),  # 除夕
        new_year,
        new_year + timedelta(days=1),
        new_year + timedelta(days=2),
        *qingming,
        date(year, 5, 1),
        date(year, 5, 2),
        lunar_day(5, 5),  # 端午
        lunar_day(8, 15),  # 中秋
        date(year, 10, 1),
        date(year, 10, 2),
        date(year, 10, 3),
    }
    off = set(days)
    for day in sorted(d for d in days if d.weekday() >= 5):
        given_back = day + timedelta(days=1)
        while given_back.weekday() >= 5 or given_back in off:
            given_back += timedelta(days=1)
        off.add(given_back)
    return frozenset(off)


def _lunar_calendar() -> Any:
    # jionlp's table of lunar months, 1900-2100; imported only for a year chinese-calendar
    # does not know, as jionlp takes a moment to load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from jionlp.gadget.lunar_solar_date import LunarSolarDate

    return LunarSolarDate()


class WorkingCalendar:
    """chinese-calendar where it has data; beyond it, the statutory holidays (see the module
    docstring), Monday-Friday otherwise, and always the policy's extra days."""

    def __init__(self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()):
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        self._warned: set[int] = set()

    def covers(self, day: date) -> bool:
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return _state_council_workday(day)
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "no State Council schedule for %d: counting the statutory holidays and "
                    "Monday-Friday, plus the policy's extra days; add that year's announced "
                    "schedule (调休) to the policy file",
                    day.year,
                )
            return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def add_working_days(self, start: date, count: int) -> date:
        """The day on which `count` working days after `start` have passed (start not counted)."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_workday(start + timedelta(days=offset))
        )
