"""The case state machine and its clocks, by example and by random sequences (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.calendar import WorkCalendar, load_calendar
from records.workflow import (
    DECISIONS,
    TERMINAL,
    TRANSITIONS,
    CaseClock,
    IllegalTransition,
    Stage,
    allowed_actions,
    apply,
    current_deadline,
    deadlines,
    handling_due,
    pause,
)

D = dt.date
CAL = load_calendar()


RECEIVED = D(2026, 3, 2)


def run(actions: list[tuple[str, dt.date]]) -> CaseClock:
    clock = CaseClock(Stage.REGISTERED, RECEIVED)
    for action, on in actions:
        clock = apply(clock, action, on, calendar=CAL, decision="解释说明")
    return clock


def test_the_ordinary_path_and_its_deadlines() -> None:
    clock = CaseClock(Stage.REGISTERED, D(2026, 3, 2))
    assert current_deadline(clock, CAL).due == D(2026, 3, 17)  # type: ignore[union-attr]
    clock = apply(clock, "accept", D(2026, 3, 10), calendar=CAL)
    assert clock.accepted_on == D(2026, 3, 10)
    # 10 Mar + 60 days = Sat 9 May 2026, a make-up working day: it stays
    assert current_deadline(clock, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
    clock = apply(clock, "start", D(2026, 3, 11), calendar=CAL)
    clock = apply(clock, "extend", D(2026, 5, 6), calendar=CAL, extension_days=30)
    # 10 Mar + 90 days = 8 Jun 2026, a Monday
    assert current_deadline(clock, CAL).due == D(2026, 6, 8)  # type: ignore[union-attr]
    clock = apply(clock, "reply", D(2026, 6, 1), calendar=CAL, decision="支持")
    window = current_deadline(clock, CAL)
    assert window is not None and window.kind == "window" and window.due == D(2026, 7, 1)
    assert not window.overdue(D(2026, 8, 1))  # the petitioner's window is never "overdue"
    clock = apply(clock, "close", D(2026, 7, 2), calendar=CAL)
    assert clock.stage is Stage.CLOSED and current_deadline(clock, CAL) is None


def test_a_due_date_on_a_holiday_moves_to_the_next_working_day() -> None:
    # received 16 Sep 2026: 15 days is 1 Oct (国庆节); the next working day is 8 Oct
    clock = CaseClock(Stage.REGISTERED, D(2026, 9, 16))
    assert current_deadline(clock, CAL).due == D(2026, 10, 8)  # type: ignore[union-attr]


def test_assignment_objection_counts_working_days() -> None:
    clock = run([("assign", D(2026, 9, 29))])
    window = [d for d in deadlines(clock, CAL) if d.working_days]
    assert window[0].due == D(2026, 10, 12)
    assert apply(clock, "object", D(2026, 10, 12), calendar=CAL).stage is Stage.REGISTERED
    with pytest.raises(IllegalTransition, match="异议期"):
        apply(clock, "object", D(2026, 10, 13), calendar=CAL)


@pytest.mark.parametrize(("actions", "bad", "message"), [
    ([], ("reply", D(2026, 3, 3)), "不能出具处理意见"),
    ([("accept", D(2026, 3, 3))], ("accept", D(2026, 3, 4)), "可以：开始办理"),
    ([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 3)), ("extend", D(2026, 3, 4))],
     ("extend", D(2026, 3, 5)), "只能延长一次"),
    ([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 3))], ("extend", D(2026, 6, 1)),
     "已于 2026-05-06 届满"),  # 2 May, in the Labour Day holiday
    ([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 3)), ("reply", D(2026, 4, 1))],
     ("request_review", D(2026, 5, 2)), "期限"),
    ([("accept", D(2026, 3, 3))], ("start", D(2026, 3, 1)), "早于上一步"),
    ([("withdraw", D(2026, 3, 3))], ("accept", D(2026, 3, 4)), "已撤回"),
])
def test_illegal_actions_are_refused_with_a_reason(
    actions: list[tuple[str, dt.date]], bad: tuple[str, dt.date], message: str
) -> None:
    clock = run(actions)
    with pytest.raises(IllegalTransition, match=message):
        apply(clock, bad[0], bad[1], calendar=CAL, decision="支持")


def test_a_reply_needs_one_of_the_three_decisions() -> None:
    clock = run([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 4))])
    with pytest.raises(IllegalTransition, match="支持、解释说明、不予支持"):
        apply(clock, "reply", D(2026, 3, 5), calendar=CAL, decision="同意")


def test_a_hearing_moves_the_handling_deadline_by_its_days() -> None:
    clock = run([("accept", D(2026, 3, 10)), ("start", D(2026, 3, 11))])
    assert handling_due(clock) == D(2026, 5, 9)
    heard = pause(clock, D(2026, 4, 1), D(2026, 4, 3), calendar=CAL)  # three days, both counted
    assert heard.paused_days == 3 and handling_due(heard) == D(2026, 5, 12)
    assert heard.stage is clock.stage and heard.last_action_on == clock.last_action_on
    extended = apply(heard, "extend", D(2026, 5, 11), calendar=CAL, extension_days=30)
    assert handling_due(extended) == D(2026, 6, 11)  # 60 + 30 + 3 days from 10 Mar


@pytest.mark.parametrize(("actions", "start", "end", "message"), [
    ([("accept", D(2026, 3, 10))], D(2026, 4, 3), D(2026, 4, 1), "早于开始日期"),
    ([], D(2026, 3, 3), D(2026, 3, 4), "办理期间"),
    ([("accept", D(2026, 3, 10))], D(2026, 3, 9), D(2026, 3, 11), "早于受理日期"),
    ([("accept", D(2026, 3, 10))], D(2026, 6, 1), D(2026, 6, 2), "已于 2026-05-09 届满"),
])
def test_a_hearing_out_of_place_is_refused(actions: list[tuple[str, dt.date]], start: dt.date,
                                           end: dt.date, message: str) -> None:
    with pytest.raises(IllegalTransition, match=message):
        pause(run(actions), start, end, calendar=CAL)


# Random sequences: whatever is tried, the state stays legal and the clocks follow the rules.
# "hearing" is not a transition: it pauses the handling clock (records.workflow.pause).

ACTIONS = sorted(TRANSITIONS)


@settings(max_examples=300, deadline=None)
@given(
    received=st.dates(D(2025, 1, 1), D(2027, 6, 30)),
    steps=st.lists(st.tuples(st.sampled_from([*ACTIONS, "hearing"]), st.integers(0, 45),
                             st.sampled_from(DECISIONS), st.integers(-5, 40)), max_size=25),
)
def test_random_sequences_never_reach_an_illegal_state(
    received: dt.date, steps: list[tuple[str, int, str, int]]
) -> None:
    clock = CaseClock(Stage.REGISTERED, received)
    extensions = paused = 0
    for action, gap, decision, extension in steps:
        on = (clock.last_action_on or received) + dt.timedelta(days=gap)
        before = clock
        if action == "hearing":  # `extension` is the hearing's length; negative ones are refused
            try:
                clock = pause(clock, on, on + dt.timedelta(days=extension), calendar=CAL)
            except IllegalTransition:
                assert clock is before
                continue
            assert before.stage in (Stage.ACCEPTED, Stage.HANDLING) and extension >= 0
            assert clock.paused_days == before.paused_days + extension + 1
            assert handling_due(clock) == handling_due(before) + dt.timedelta(days=extension + 1)
            paused += extension + 1
            _check_clocks(clock, CAL)
            continue
        try:
            clock = apply(clock, action, on, calendar=CAL, decision=decision,
                          extension_days=extension)
        except IllegalTransition:
            assert clock is before
            continue
        sources, target = TRANSITIONS[action]
        assert before.stage in sources and before.stage not in TERMINAL
        assert clock.stage is target
        assert clock.last_action_on == on
        extensions += action == "extend"
        _check_clocks(clock, CAL)
    assert extensions <= 1
    assert clock.paused_days == paused
    assert set(allowed_actions(clock.stage)) == {
        a for a, (sources, _) in TRANSITIONS.items() if clock.stage in sources
    }


def _check_clocks(clock: CaseClock, calendar: WorkCalendar) -> None:
    assert 0 <= clock.extension_days <= 30
    for deadline in deadlines(clock, calendar):
        assert calendar.is_working_day(deadline.due)
    if clock.stage in (Stage.ACCEPTED, Stage.HANDLING):
        assert clock.accepted_on is not None
        due = current_deadline(clock, calendar)
        assert due is not None
        raw = clock.accepted_on + dt.timedelta(days=60 + clock.extension_days + clock.paused_days)
        assert raw <= due.due <= raw + dt.timedelta(days=10)
    if clock.stage is Stage.REPLIED:
        assert clock.decision in DECISIONS and clock.replied_on is not None
    if clock.stage in TERMINAL:
        assert allowed_actions(clock.stage) == []
