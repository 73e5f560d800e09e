"""Working days on the State Council calendar, with its make-up working weekends (调休)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import chinese_calendar

log = logging.getLogger(__name__)


@lru_cache(maxsize=8192)
def _state_council_workday(day: date) -> bool:
    """chinese-calendar's answer, remembered: every clock started walks the same few weeks."""
    return bool(chinese_calendar.is_workday(day))


class WorkingCalendar:
    """chinese-calendar where it has data; beyond it, Monday-Friday plus the policy's extras."""

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
                    "no State Council calendar for %d: counting Monday-Friday plus the policy's "
                    "extra days; add that year's holidays to the policy file",
                    day.year,
                )
            return day.weekday() < 5

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
