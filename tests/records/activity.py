"""A year of generated office activity: letters and visits, cases walked through their
documents, deliveries, waivers and withdrawals, flags and ratings (seeded).

Among them: overdue, transferred, withdrawn, repeat (after the answer, or to a second level)
and anonymous matters, visits beyond the level above and visits of five or more people.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from sqlalchemy.orm import Session

from records import (
    Case,
    Database,
    Letter,
    RecordsError,
    Unit,
    cases,
    intake,
    settlements,
    termination,
)
from records.calendar import OutsideCalendar, WorkCalendar
from records.workflow import DECISIONS, STEP_DOCUMENTS, Evidence, IllegalTransition, Stage

TOWNSHIPS = ("城关镇", "石桥镇", "李集镇", "青山乡", "柳河乡")
UNITS = (("县住建局", "county"), ("县人社局", "county"), ("县自然资源局", "county"),
         ("石桥镇人民政府", "township"), ("枣树营村委会", "village"))
# Where a petitioner wrote or went: mostly the county, sometimes above.
ADDRESSED = ("county",) * 6 + ("township", "city", "city", "province", "national")
PATHS = (
    ("accept", "start", "reply", "deliver", "close"),
    ("assign", "receive_assignment", "start", "reply", "deliver"),
    ("accept", "start", "ask_extension", "extend", "notify_extension", "reply", "deliver",
     "request_review", "answer_review", "deliver_review"),
    ("assign", "receive_assignment", "accept", "start", "reply", "deliver", "request_review",
     "answer_review", "deliver_review", "request_recheck", "hearing", "answer_recheck"),
    ("accept", "start", "reply", "deliver", "waive", "close"),
    ("transfer",),
    ("not_accept",),
    ("accept", "start"),
    ("accept", "withdraw"),
    ("assign",),
    (),
)
DELIVERIES = {"deliver": "handling_opinion", "deliver_review": "review_opinion"}


def generate(db: Database, calendar: WorkCalendar, *, letters: int, cases_: int,
             seed: int = 7, year: int = 2025) -> None:
    """`cases_` cases over one year, `letters` letters in all (the rest follow up a case)."""
    rng = random.Random(seed)
    deciding = random.Random(seed + 1)  # its own draws: the rest of the year stays as it was
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
            if rng.random() < .3:
                letter.channel, letter.people = "visit", rng.choice((1, 1, 2, 3, 5, 8))
            letter.addressed_level = rng.choice(ADDRESSED)
            if n < cases_:
                case = cases.open_case(session, letter, actor="gen")
                case.unit_id = rng.choice(units).id
                opened.append(case)
                _walk(session, case, rng, calendar)
                _settle(session, case, deciding)
            else:
                earlier = [c for c in opened if c.opened_on <= received]
                if earlier:
                    case = rng.choice(earlier)
                    cases.link_letter(session, letter, case, actor="gen")
                    _not_again(session, case, letter, deciding, calendar)
            if n % 500 == 0:
                session.flush()


def _walk(session: Session, case: Case, rng: random.Random, calendar: WorkCalendar) -> None:
    on = case.opened_on
    anonymous = rng.random() < .08
    for action in rng.choice(PATHS):
        on += dt.timedelta(days=rng.choice((1, 3, 8, 14, 20, 40, 70)))
        try:
            if action in DELIVERIES:
                cases.document_delivered(session, case, DELIVERIES[action], on, actor="gen")
            elif action == "hearing":
                cases.record_hearing(session, case, "hearing", on,
                                     on + dt.timedelta(days=rng.randint(0, 4)), actor="gen",
                                     calendar=calendar)
            else:
                cases.transition(session, case, action, on, actor="gen", calendar=calendar,
                                 decision=rng.choice(DECISIONS), approved_by="县信访局局长",
                                 extension_days=rng.randint(10, 30),
                                 evidence=_evidence(action, anonymous, rng))
        except (IllegalTransition, RecordsError, OutsideCalendar):
            break  # refused, or past the holiday table (a real office is stopped there too)
    flags = [f for f, p in (("重复", .05), ("越级", .05), ("集体", .04)) if rng.random() < p]
    if flags:
        cases.flag(session, case, flags, actor="gen")
    if Stage(case.status) in (Stage.REPLIED, Stage.REVIEW_REPLIED, Stage.RECHECK_REPLIED,
                              Stage.CLOSED) and rng.random() < .6:
        with contextlib.suppress(RecordsError):
            cases.rate_satisfaction(session, case, rng.choice(cases.SATISFACTION), actor="gen")


def _settle(session: Session, case: Case, rng: random.Random) -> None:
    """Some matters in hand end by a §33 agreement instead of a 处理意见书."""
    if Stage(case.status) in settlements.WHILE_HANDLING and rng.random() < .3:
        on = (case.last_action_on or case.opened_on) + dt.timedelta(days=rng.choice((5, 30, 90)))
        settlements.settle(session, case, kind=rng.choice(settlements.KINDS),
                           parties=["信访人", "村委会"], terms="补偿到位", signed_on=on,
                           file_sha256=f"{case.id:064x}", file_name="协议书.pdf",
                           media_type="application/pdf", size=1, actor="gen", today=on)


def _not_again(session: Session, case: Case, letter: Letter, rng: random.Random,
               calendar: WorkCalendar) -> None:
    """A later letter of an ended matter (§36 ¶3) or of one in hand (§19 ¶3): mostly not
    accepted again, as the clerk decides."""
    proposal = termination.propose(session, case, letter, cases.clock_of(case), calendar)
    if proposal is not None and rng.random() < .7:
        termination.decide(session, letter, proposal, letter.received_on, actor="gen")


def _evidence(action: str, anonymous: bool, rng: random.Random) -> Evidence | None:
    document = STEP_DOCUMENTS.get(action)
    if document is None:
        return None
    if action in ("accept", "not_accept", "transfer") and anonymous:
        return Evidence(told="信访人匿名")  # §23 ¶2: no notice to an unknown address
    if action == "accept" and rng.random() < .2:
        return Evidence(told="当面告知")
    return Evidence(document=document)
