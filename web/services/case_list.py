"""The list of cases with their clocks, fast at tens of thousands of cases.

A case's current deadline depends on its stage, its dates and the holiday calendar, so it is
computed in Python (records.workflow), not in SQL. Computing it for every open case on every
request would cost half a second at 100k letters; instead each process keeps the clocks it has
computed and, per request, reads only the cases changed or added since (each change bumps a
case's ``version``). A new day recomputes everything once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records import Case
from records.calendar import OutsideCalendar, WorkCalendar
from records.workflow import TERMINAL, CaseClock, Deadline, Stage, current_deadline

CLOCK_FIELDS = [f.name for f in dataclasses.fields(CaseClock)
                if f.name not in ("stage", "received_on")]
BATCH = 500
_COLUMNS = (Case.id, Case.status, Case.unit_id, Case.township, Case.flags, Case.opened_on,
            *(getattr(Case, name) for name in CLOCK_FIELDS))


@dataclass(frozen=True)
class Entry:
    """What the list filters and sorts a case by."""

    case_id: int
    status: str
    unit_id: int | None
    township: str
    flags: tuple[str, ...]
    clock: Deadline | None

    def sort_key(self) -> tuple[bool, bool, dt.date, int]:
        """Office duties first, nearest due first; ended cases last, newest first."""
        clock = self.clock
        return (clock is None, clock is None or clock.kind != "duty",
                clock.due if clock else dt.date.max, -self.case_id)


class ClockCache:
    """The clock of every case, kept up to date incrementally (one per database).

    Every change of a case through the ORM bumps its ``version``, so the count, the sum of
    versions and the highest id tell whether anything changed; if so, the (id, version) pairs
    say which cases to read again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, Entry] = {}
        self._versions: dict[int, int] = {}
        self._fingerprint: tuple[int, int, int] | None = None
        self._day: dt.date | None = None

    def entries(self, session: Session, calendar: WorkCalendar, today: dt.date) -> list[Entry]:
        """Every case's entry, refreshed with what changed since the last call."""
        with self._lock:
            if today != self._day:
                self._entries, self._versions, self._fingerprint = {}, {}, None
                self._day = today
            count, total, top = session.execute(select(
                func.count(), func.coalesce(func.sum(Case.version), 0),
                func.coalesce(func.max(Case.id), 0))).one()
            fingerprint = (int(count), int(total), int(top))
            if fingerprint != self._fingerprint:
                self._refresh(session, calendar)
                self._fingerprint = fingerprint
            return list(self._entries.values())

    def _refresh(self, session: Session, calendar: WorkCalendar) -> None:
        """Read again the cases whose version changed (all of them the first time)."""
        versions = {i: v for i, v in session.execute(select(Case.id, Case.version))}
        changed = [i for i, v in versions.items() if self._versions.get(i) != v]
        for gone in set(self._entries) - set(versions):
            del self._entries[gone]
        if len(changed) > BATCH * 4:
            rows = session.execute(select(*_COLUMNS))
            self._store(rows, calendar)
        else:
            for start in range(0, len(changed), BATCH):
                chunk = changed[start:start + BATCH]
                self._store(session.execute(select(*_COLUMNS).where(Case.id.in_(chunk))),
                            calendar)
        self._versions = versions

    def _store(self, rows: Iterable[Any], calendar: WorkCalendar) -> None:
        for case_id, status, unit_id, township, flags, opened_on, *dates in rows:
            stage = Stage(status)
            try:
                clock = None if stage in TERMINAL else current_deadline(
                    CaseClock(stage, opened_on, **dict(zip(CLOCK_FIELDS, dates, strict=True))),
                    calendar)
            except OutsideCalendar:  # the case page names the year to enter; no guess here
                clock = None
            self._entries[case_id] = Entry(case_id, status, unit_id, township or "",
                                           tuple(flags or ()), clock)


_caches: dict[str, ClockCache] = {}
_caches_lock = threading.Lock()


def clock_cache(database_url: str) -> ClockCache:
    """The cache of one database (tests run several instances in one process)."""
    with _caches_lock:
        return _caches.setdefault(database_url, ClockCache())


def matching_text(session: Session, text: str) -> set[int]:
    """Cases whose number, title, township, category or a petitioner's name holds ``text``."""
    from records import Letter, Petitioner
    from records.models import letter_petitioner

    words = text.split()
    found: set[int] | None = None
    for word in words[:5]:
        pattern = f"%{word.replace('%', '').replace('_', '')}%"
        direct = set(session.scalars(select(Case.id).where(
            Case.case_no.ilike(pattern) | Case.title.like(pattern)
            | Case.township.like(pattern) | Case.category.like(pattern))))
        by_person = set(session.scalars(
            select(Letter.case_id).join(letter_petitioner,
                                        letter_petitioner.c.letter_id == Letter.id)
            .join(Petitioner, Petitioner.id == letter_petitioner.c.petitioner_id)
            .where(Petitioner.name.like(pattern), Letter.case_id.is_not(None))))
        hits = direct | {i for i in by_person if i is not None}
        found = hits if found is None else found & hits
    return found or set()
