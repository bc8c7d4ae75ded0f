"""Working days: weekends, China's public holidays and make-up working days (调休).

The table ships with Huiyin (records/data/holidays.csv) and the office may add or correct rows
in its own holidays.csv; the arithmetic here is pure.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SHIPPED = Path(__file__).parent / "data" / "holidays.csv"


class CalendarError(Exception):
    """A holiday table row that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days; weekends are off unless they are make-up working days."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    names: dict[dt.date, str] = field(default_factory=dict, compare=False)

    def is_working_day(self, day: dt.date) -> bool:
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


def parse_rows(lines: Iterable[str], source: str) -> list[tuple[dt.date, str, str]]:
    """Rows of `date,kind,name` (kind: holiday or workday); # lines are comments."""
    rows = []
    content = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    for n, row in enumerate(csv.DictReader(content), start=2):
        try:
            day = dt.date.fromisoformat((row.get("date") or "").strip())
        except ValueError as e:
            raise CalendarError(f"{source}: row {n}: not a date {row.get('date')!r}") from e
        kind = (row.get("kind") or "").strip()
        if kind not in ("holiday", "workday"):
            raise CalendarError(f"{source}: row {n}: kind must be holiday or workday, not {kind!r}")
        rows.append((day, kind, (row.get("name") or "").strip()))
    return rows


def load_calendar(*extra: Path) -> WorkCalendar:
    """The shipped table, then each existing extra file; a later row for a day wins."""
    kinds: dict[dt.date, tuple[str, str]] = {}
    for path in (SHIPPED, *extra):
        if path.is_file():
            with path.open(encoding="utf-8") as f:
                for day, kind, name in parse_rows(f, str(path)):
                    kinds[day] = (kind, name)
    return WorkCalendar(
        holidays=frozenset(d for d, (k, _) in kinds.items() if k == "holiday"),
        workdays=frozenset(d for d, (k, _) in kinds.items() if k == "workday"),
        names={d: name for d, (_, name) in kinds.items()},
    )
