"""A year of generated office activity: letters, cases, actions, flags and ratings (seeded)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from sqlalchemy.orm import Session

from records import Case, Database, RecordsError, Unit, cases, intake
from records.calendar import WorkCalendar
from records.workflow import DECISIONS, IllegalTransition, Stage

TOWNSHIPS = ("城关镇", "石桥镇", "李集镇", "青山乡", "柳河乡")
UNITS = (("县住建局", "county"), ("县人社局", "county"), ("县自然资源局", "county"),
         ("石桥镇人民政府", "township"), ("枣树营村委会", "village"))
PATHS = (
    ("accept", "start", "reply", "close"),
    ("assign", "start", "reply"),
    ("accept", "start", "extend", "reply", "request_review", "answer_review"),
    ("assign", "start", "reply", "request_review", "answer_review", "request_recheck",
     "answer_recheck"),
    ("transfer",),
    ("not_accept",),
    ("accept", "start"),
    ("assign",),
    (),
)


def generate(db: Database, calendar: WorkCalendar, *, letters: int, cases_: int,
             seed: int = 7, year: int = 2025) -> None:
    """`cases_` cases over one year, `letters` letters in all (the rest follow up a case)."""
    rng = random.Random(seed)
    start = dt.date(year, 1, 1)
    with db.session() as session:
        units = [Unit(name=name, level=level) for name, level in UNITS]
        session.add_all(units)
        session.flush()
        opened = []
        for n in range(letters):
            received = start + dt.timedelta(days=rng.randrange(365))
            letter = intake.register_letter(
                session, sha256=f"{n + 1:064x}", source_name=f"{n}.jpg", media_type="image/jpeg",
                size_bytes=1, received_on=received, actor="gen")
            letter.township = rng.choice(TOWNSHIPS)
            if n < cases_:
                case = cases.open_case(session, letter, actor="gen")
                case.unit_id = rng.choice(units).id
                opened.append(case)
                _walk(session, case, rng, calendar)
            else:
                earlier = [c for c in opened if c.opened_on <= received]
                if earlier:
                    cases.link_letter(session, letter, rng.choice(earlier), actor="gen")
            if n % 500 == 0:
                session.flush()


def _walk(session: Session, case: Case, rng: random.Random, calendar: WorkCalendar) -> None:
    on = case.opened_on
    for action in rng.choice(PATHS):
        on += dt.timedelta(days=rng.choice((1, 3, 8, 14, 20, 40, 70)))
        try:
            cases.transition(session, case, action, on, actor="gen", calendar=calendar,
                             decision=rng.choice(DECISIONS), extension_days=rng.randint(10, 30))
        except IllegalTransition:
            break
        if action == "start" and rng.random() < .1:  # a hearing (听证) pauses the clock
            begins = on + dt.timedelta(days=rng.randint(1, 20))
            with contextlib.suppress(RecordsError):  # refused once the handling period is over
                cases.record_hearing(session, case, "hearing", begins,
                                     begins + dt.timedelta(days=rng.randint(0, 6)), actor="gen",
                                     calendar=calendar)
    flags = [f for f, p in (("重复", .15), ("越级", .05), ("集体", .04)) if rng.random() < p]
    if flags:
        cases.flag(session, case, flags, actor="gen")
    if Stage(case.status) in (Stage.REPLIED, Stage.REVIEW_REPLIED, Stage.RECHECK_REPLIED,
                              Stage.CLOSED) and rng.random() < .6:
        cases.rate_satisfaction(session, case, rng.choice(cases.SATISFACTION), actor="gen")
