"""Working days: weekends, China's public holidays and make-up working days (调休).

The base is the `holidays` library (python-holidays, kept monthly), whose China calendar carries
the State Council's yearly notices (国务院办公厅关于部分节假日安排的通知): days off, substituted
days and weekend working days. The office's own holidays.csv overrides it day by day, and may
declare a whole year (a ``year`` row) whose notice the library does not have yet.

A date in a year that neither covers is refused (OutsideCalendar, naming the year): counting it
as if only weekends were days off would give wrong deadlines without a word.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

KINDS = ("holiday", "workday", "year")


class CalendarError(Exception):
    """A holiday table row that cannot be read; the message names the file and line."""


class OutsideCalendar(CalendarError):
    """A date in a year whose holidays and 调休 are not known: no deadline can be counted."""


@cache
def library_years() -> range:
    """The years whose State Council notice the library carries (a later year holds only the
    statutory days, without the substituted days off and make-up working days)."""
    from holidays.countries.china import ChinaStaticHolidays  # ~0.3 s: only when counting

    years = ChinaStaticHolidays.special_public_holidays
    return range(min(years), max(years) + 1)


def library_source() -> str:
    """Where the library's years come from, for the admin page."""
    import holidays

    return f"holidays {holidays.__version__}（国务院办公厅节假日安排通知）"


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days; weekends are off unless they are make-up working days.

    ``covered`` names the years whose arrangement is known (``sources`` says from where); None
    means a calendar built by hand for every year (tests of the arithmetic).
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset, repr=False)
    workdays: frozenset[dt.date] = field(default_factory=frozenset, repr=False)
    names: dict[dt.date, str] = field(default_factory=dict, compare=False, repr=False)
    covered: frozenset[int] | None = None
    sources: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def covers(self, day: dt.date) -> bool:
        """True when the day's year has a known holiday arrangement."""
        return self.covered is None or day.year in self.covered

    def check(self, day: dt.date) -> None:
        """Refuse a day of a year whose arrangement is not known, naming the year."""
        if not self.covers(day):
            known = ("、".join(str(y) for y in sorted(self.covered or ()) if y >= day.year - 3)
                     or "无")
            raise OutsideCalendar(
                f"节假日表没有 {day.year} 年的放假和调休安排（已有：{known} 年），"
                f"不能计算落在 {day} 的期限：请管理员在系统管理 → 节假日中按国务院办公厅通知"
                f"录入 {day.year} 年的安排")

    def is_working_day(self, day: dt.date) -> bool:
        self.check(day)
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The day `count` working days after `start` (the start day itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        while count:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        days = (start + dt.timedelta(days=n) for n in range(1, (end - start).days + 1))
        return sum(1 for day in days if self.is_working_day(day))

    def coverage(self) -> list[dict[str, Any]]:
        """Each covered year and where its days come from (for the admin page)."""
        return [{"year": year, "source": self.sources.get(year, "")}
                for year in sorted(self.covered or ())]


def parse_rows(lines: Iterable[str], source: str) -> list[tuple[dt.date, str, str]]:
    """Rows of `date,kind,name` (kind: holiday, workday, or year: the whole year is entered,
    as the named notice says); # lines are comments."""
    rows = []
    content = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    for n, row in enumerate(csv.DictReader(content), start=2):
        try:
            day = dt.date.fromisoformat((row.get("date") or "").strip())
        except ValueError as e:
            raise CalendarError(f"{source}: row {n}: not a date {row.get('date')!r}") from e
        kind = (row.get("kind") or "").strip()
        if kind not in KINDS:
            raise CalendarError(f"{source}: row {n}: kind must be holiday, workday or year, "
                                f"not {kind!r}")
        rows.append((day, kind, (row.get("name") or "").strip()))
    return rows


@cache
def library_days(year: int) -> dict[dt.date, tuple[str, str]]:
    """The library's days off and make-up working days of one year (kind, name)."""
    import holidays

    china = holidays.China(years=year, language="zh_CN")
    days = {day: ("holiday", name) for day, name in china.items()}
    days.update({day: ("workday", "调休上班") for day in china.weekend_workdays
                 if day.year == year})
    return days


def load_calendar(*extra: Path) -> WorkCalendar:
    """The library's years, then each existing extra file; a later row for a day wins."""
    kinds: dict[dt.date, tuple[str, str]] = {}
    sources = {year: library_source() for year in library_years()}
    for year in library_years():
        kinds.update(library_days(year))
    for path in extra:
        if path.is_file():
            with path.open(encoding="utf-8") as f:
                for day, kind, name in parse_rows(f, str(path)):
                    if kind == "year":
                        sources[day.year] = f"{path.name}：{name or '本单位录入'}"
                    else:
                        kinds[day] = (kind, name)
    return WorkCalendar(
        holidays=frozenset(d for d, (k, _) in kinds.items() if k == "holiday"),
        workdays=frozenset(d for d, (k, _) in kinds.items() if k == "workday"),
        names={d: name for d, (_, name) in kinds.items()},
        covered=frozenset(sources),
        sources=sources,
    )
