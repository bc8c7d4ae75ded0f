"""Cases in the database: opening, linking, actions with their audit events, due lists."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records import Database, RecordsError, audit, cases, intake
from records.calendar import load_calendar
from records.workflow import TRANSITIONS, IllegalTransition, Stage

D = dt.date
CAL = load_calendar()


def _letter(db: Database, sha: str, received: dt.date | None = None) -> int:
    with db.session() as session:
        letter = intake.register_letter(session, sha256=sha, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=received or D(2026, 3, 2), actor="clerk1")
        letter.summary, letter.township = "请求兑现征地补偿款", "石桥镇"
        return letter.id


def test_a_case_opens_from_its_first_letter(db: Database) -> None:
    letter_id = _letter(db, "a" * 64)
    with db.session() as session:
        letter = intake.get_letter(session, letter_id)
        case = cases.open_case(session, letter, actor="clerk1")
        assert case.case_no == "XF-2026-000001"
        assert case.status == "registered" and case.opened_on == D(2026, 3, 2)
        assert case.title == "请求兑现征地补偿款" and case.township == "石桥镇"
        assert letter.case_id == case.id
        with pytest.raises(RecordsError, match="already belongs"):
            cases.open_case(session, letter, actor="clerk1")


def test_a_second_letter_joins_the_case_and_both_are_audited(db: Database) -> None:
    first, second = _letter(db, "a" * 64), _letter(db, "b" * 64, D(2026, 3, 20))
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, first), actor="clerk1")
        cases.link_letter(session, intake.get_letter(session, second), case, actor="clerk2",
                          reason="同一事项再次来信")
        assert {letter.id for letter in case.letters} == {first, second}
        events = [(e.actor, e.action) for e in audit.history(session, "case", case.id)]
    assert events == [("clerk1", "open-case"), ("clerk2", "link-letter")]


def test_actions_move_the_clock_and_are_audited(db: Database) -> None:
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, _letter(db, "a" * 64)),
                               actor="clerk1")
        cases.transition(session, case, "accept", D(2026, 3, 10), actor="lead1", calendar=CAL,
                         reason="属本机关职责")
        assert cases.deadline(case, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
        with pytest.raises(IllegalTransition):
            cases.transition(session, case, "close", D(2026, 3, 11), actor="x", calendar=CAL)
        assert case.status == "accepted"
        [*_, last] = audit.history(session, "case", case.id)
    assert last.detail == {"step": "accept", "on": "2026-03-10", "from_stage": "registered",
                           "to_stage": "accepted", "reason": "属本机关职责", "decision": None}


def test_due_soon_and_overdue_lists(db: Database) -> None:
    ids = [_letter(db, c * 64, received) for c, received in
           (("a", D(2026, 3, 2)), ("b", D(2026, 3, 12)), ("c", D(2026, 1, 5)))]
    with db.session() as session:
        opened = [cases.open_case(session, intake.get_letter(session, i), actor="c") for i in ids]
        cases.transition(session, opened[2], "not_accept", D(2026, 1, 6), actor="c",
                         calendar=CAL)
        today = D(2026, 3, 20)
        overdue = cases.due(session, CAL, today, overdue_only=True)
        soon = cases.due(session, CAL, today, within_days=10)
        assert [c.id for c, _ in overdue] == [opened[0].id]   # due 17 Mar
        assert [c.id for c, _ in soon] == [opened[0].id, opened[1].id]  # the ended one is gone


def test_flags_are_checked(db: Database) -> None:
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, _letter(db, "a" * 64)),
                               actor="c")
        cases.flag(session, case, ["越级", "重复"], actor="c")
        assert case.flags == sorted(["越级", "重复"])
        with pytest.raises(RecordsError, match="unknown flag"):
            cases.flag(session, case, ["可疑"], actor="c")


_SHAS = itertools.count(1)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.integers(0, 40)),
                      max_size=12))
def test_every_action_taken_has_exactly_one_audit_event(
    db: Database, steps: list[tuple[str, int]]
) -> None:
    letter_id = _letter(db, f"{next(_SHAS):064x}")  # one database serves every example
    taken = 0
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, letter_id), actor="c")
        for action, gap in steps:
            on = (case.last_action_on or case.opened_on) + dt.timedelta(days=gap)
            try:
                cases.transition(session, case, action, on, actor="c", calendar=CAL,
                                 decision="不予支持")
            except IllegalTransition:
                continue
            taken += 1
        moves = [e for e in audit.history(session, "case", case.id) if e.action == "transition"]
        assert len(moves) == taken
        stages = [Stage.REGISTERED.value] + [e.detail["to_stage"] for e in moves]
        assert stages[-1] == case.status
        assert all(e.detail["from_stage"] == stages[i] for i, e in enumerate(moves))
