"""Working days follow weekends, public holidays and make-up working days (调休): the State
Council's notices as the `holidays` library carries them, the office's table overriding, and
a year that neither covers refused by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from records.calendar import (
    CalendarError,
    OutsideCalendar,
    WorkCalendar,
    library_years,
    load_calendar,
)
from records.workflow import due_on

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return load_calendar()


@pytest.mark.parametrize(("day", "working"), [
    (D(2026, 10, 1), False),   # 国庆节, a Thursday
    (D(2026, 10, 10), True),   # a Saturday worked to make up for it
    (D(2026, 10, 8), True),    # an ordinary Thursday
    (D(2026, 10, 11), False),  # an ordinary Sunday
    (D(2026, 2, 14), True),    # 春节调休, a Saturday
    (D(2026, 2, 23), False),   # a Monday off, substituted for Sat 28 Feb
    (D(2026, 5, 9), True),     # 劳动节调休, a Saturday
    (D(2025, 1, 28), False),   # 除夕 2025
    (D(2025, 1, 26), True),    # 春节调休 2025, a Sunday
])
def test_known_days(calendar: WorkCalendar, day: dt.date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_the_library_covers_the_years_of_its_notices(calendar: WorkCalendar) -> None:
    assert {2025, 2026} <= set(library_years())
    rows = {row["year"]: row["source"] for row in calendar.coverage()}
    assert "国务院办公厅" in str(rows[2026]) and "holidays" in str(rows[2026])


def test_a_year_without_a_notice_is_refused_by_name(calendar: WorkCalendar) -> None:
    """Before: a day past the table was counted as if only weekends were days off."""
    year = max(library_years()) + 1
    with pytest.raises(OutsideCalendar, match=f"没有 {year} 年的放假和调休安排"):
        calendar.is_working_day(D(year, 2, 8))
    with pytest.raises(OutsideCalendar, match=f"录入 {year} 年"):
        due_on(D(year - 1, 12, 20), 60, calendar)  # a 60-day clock that runs into that year


def test_five_working_days_across_the_national_day_holiday(calendar: WorkCalendar) -> None:
    # assigned on Tue 29 Sep 2026: 30 Sep, (1–7 Oct off), 8, 9, 10 (make-up Saturday), 12 Oct
    assert calendar.add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 12)


def test_the_office_table_adds_and_overrides(tmp_path: Path) -> None:
    extra = tmp_path / "holidays.csv"
    extra.write_text("date,kind,name\n2026-11-24,holiday,县庆\n2026-10-01,workday,值班\n",
                     encoding="utf-8")
    calendar = load_calendar(extra)
    assert not calendar.is_working_day(D(2026, 11, 24))
    assert calendar.is_working_day(D(2026, 10, 1))
    assert calendar.names[D(2026, 11, 24)] == "县庆"


def test_the_office_declares_a_year_the_library_lacks(tmp_path: Path) -> None:
    year = max(library_years()) + 1
    extra = tmp_path / "holidays.csv"
    extra.write_text(f"date,kind,name\n{year}-01-01,year,国办发明电\n{year}-01-01,holiday,元旦\n"
                     f"{year}-02-06,workday,春节调休\n", encoding="utf-8")
    calendar = load_calendar(extra)
    assert not calendar.is_working_day(D(year, 1, 1))
    assert calendar.is_working_day(D(year, 2, 6))
    assert {"year": year, "source": "holidays.csv：国办发明电"} in calendar.coverage()


@pytest.mark.parametrize(("content", "message"), [
    ("date,kind,name\n2026-13-01,holiday,x\n", "not a date"),
    ("date,kind,name\n2026-11-02,day off,x\n", "holiday, workday or year"),
])
def test_a_bad_row_is_named(tmp_path: Path, content: str, message: str) -> None:
    extra = tmp_path / "holidays.csv"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarError, match=f"row 2: .*{message}"):
        load_calendar(extra)


@given(st.dates(D(2025, 1, 1), D(2026, 11, 30)), st.integers(0, 20))
def test_adding_working_days_counts_exactly_that_many(start: dt.date, n: int) -> None:
    calendar = load_calendar()
    end = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n
    assert n == 0 or calendar.is_working_day(end)
