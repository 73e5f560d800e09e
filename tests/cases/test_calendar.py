from datetime import date

from cases.calendar import WorkingCalendar, statutory_holidays

CAL = WorkingCalendar()


def test_national_day_week_is_off_and_the_make_up_saturday_is_on() -> None:
    assert not CAL.is_workday(date(2026, 10, 1))
    assert not CAL.is_workday(date(2026, 10, 7))
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday, 调休
    assert not CAL.is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_seven_working_days_across_national_day() -> None:
    # Filed Wednesday 30 September 2026: 1-7 October are holidays, 8, 9 and Saturday 10 work.
    assert CAL.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 15)) == 7
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_an_ordinary_week() -> None:
    assert CAL.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday → Monday
    assert CAL.add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)
    assert CAL.working_days_between(date(2026, 11, 30), date(2026, 11, 23)) == -5


def test_years_the_package_does_not_know_use_weekdays_and_the_policy_extras() -> None:
    cal = WorkingCalendar(extra_holidays=[date(2027, 1, 1)], extra_workdays=[date(2027, 1, 9)])
    assert not cal.covers(date(2027, 1, 4))
    assert not cal.is_workday(date(2027, 1, 1))  # Friday, listed as a holiday
    assert cal.is_workday(date(2027, 1, 4))  # Monday
    assert cal.is_workday(date(2027, 1, 9))  # Saturday, listed as a make-up day
    assert not cal.is_workday(date(2027, 1, 10))  # Sunday


def test_the_statutory_holidays_are_days_off_in_every_year_the_package_knows() -> None:
    # 2025 and 2026 are the amended law's years that chinese-calendar holds: every day the
    # fallback derives from the law (lunar festivals and 清明 included) was announced off.
    for year in (2025, 2026):
        derived = statutory_holidays(year)
        assert len(derived) >= 13
        assert [d for d in derived if CAL.is_workday(d)] == []


def test_a_year_the_package_does_not_know_keeps_the_statutory_holidays() -> None:
    cal = WorkingCalendar()
    assert not cal.covers(date(2027, 2, 5))
    # Spring Festival 2027: 除夕 Friday 5 February, 初一 to 初三 Saturday to Monday; the
    # weekend two are given back on Tuesday and Wednesday.
    assert [cal.is_workday(date(2027, 2, d)) for d in range(4, 12)] == [
        True, False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert not cal.is_workday(date(2027, 1, 1))  # New Year, a Friday
    assert not cal.is_workday(date(2027, 6, 9))  # 端午
    assert not cal.is_workday(date(2027, 9, 15))  # 中秋
    assert cal.is_workday(date(2027, 9, 16))
    # A clock started on 28 January 2027 counts across the festival: ten working days are
    # 29 Jan, 1-4 Feb, then 11, 12, 15, 16, 17 Feb.
    assert cal.add_working_days(date(2027, 1, 28), 10) == date(2027, 2, 17)
