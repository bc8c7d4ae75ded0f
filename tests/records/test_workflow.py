"""The case state machine and its clocks, by example, by the issue's scenarios (dates across
holidays and 调休 days of 2026) and by random sequences (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.calendar import OutsideCalendar, WorkCalendar, load_calendar
from records.workflow import (
    ANSWERS,
    DECISIONS,
    STEP_DOCUMENTS,
    TERMINAL,
    TRANSITIONS,
    CaseClock,
    Evidence,
    IllegalTransition,
    Stage,
    agenda,
    allowed_actions,
    apply,
    assignment_due,
    correct_receipt,
    current_deadline,
    deadlines,
    deliver,
    extension_terms,
    handling_due,
    pause,
)

D = dt.date
CAL = load_calendar()
RECEIVED = D(2026, 3, 2)


def signed(action: str) -> Evidence | None:
    """The document whose signing makes the step."""
    document = STEP_DOCUMENTS.get(action)
    return Evidence(document=document) if document else None


def step(clock: CaseClock, action: str, on: dt.date, **kwargs: object) -> CaseClock:
    return apply(clock, action, on, calendar=CAL, evidence=signed(action),
                 **{"decision": "解释说明", "approved_by": "王局长", **kwargs})  # type: ignore[arg-type]


def run(actions: list[tuple[str, dt.date]], received: dt.date = RECEIVED) -> CaseClock:
    clock = CaseClock(Stage.REGISTERED, received)
    for action, on in actions:
        clock = step(clock, action, on)
    return clock


def test_the_ordinary_path_and_its_deadlines() -> None:
    clock = CaseClock(Stage.REGISTERED, D(2026, 3, 2))
    assert current_deadline(clock, CAL).due == D(2026, 3, 17)  # type: ignore[union-attr]
    clock = step(clock, "accept", D(2026, 3, 10))
    assert clock.accepted_on == D(2026, 3, 10)
    # 10 Mar + 60 days = Sat 9 May 2026, a make-up working day: it stays
    assert current_deadline(clock, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
    clock = step(clock, "start", D(2026, 3, 11))
    clock = step(clock, "reply", D(2026, 5, 6), decision="支持")
    assert clock.stage is Stage.REPLIED and current_deadline(clock, CAL) is None  # not delivered
    clock = deliver(clock, "handling_opinion", D(2026, 5, 8))
    window = current_deadline(clock, CAL)
    # 8 May + 30 days = Sun 7 Jun 2026 -> Mon 8 Jun
    assert window is not None and window.kind == "window" and window.due == D(2026, 6, 8)
    assert window.article == "第三十五条"
    assert not window.overdue(D(2026, 8, 1))  # the petitioner's window is never "overdue"
    clock = step(clock, "close", D(2026, 6, 9))
    assert clock.stage is Stage.CLOSED and current_deadline(clock, CAL) is None


def test_a_due_date_on_a_holiday_moves_to_the_next_working_day() -> None:
    # received 16 Sep 2026: 15 days is 1 Oct (国庆节); the next working day is 8 Oct
    clock = CaseClock(Stage.REGISTERED, D(2026, 9, 16))
    assert current_deadline(clock, CAL).due == D(2026, 10, 8)  # type: ignore[union-attr]


# ---- the scenarios

def test_an_assignment_received_by_the_unit_on_the_monday_before_national_day() -> None:
    """§23 ¶3: the unit's 15 days and 5 working days run from its own receipt of the 交办."""
    clock = run([("assign", D(2026, 9, 24))], received=D(2026, 9, 14))
    assert deadlines(clock, CAL) == []  # nothing runs for the unit before it receives it
    assert "尚未签收" in agenda(clock, CAL, D(2026, 9, 25)).notes[0]
    clock = step(clock, "receive_assignment", D(2026, 9, 28))  # Monday
    notice, objection = deadlines(clock, CAL)
    assert notice.due == D(2026, 10, 13) and notice.article == "第二十三条第三款"
    # 29, 30 Sep, (1–7 Oct off), 8, 9 and Saturday 10 Oct, a make-up working day
    assert objection.due == D(2026, 10, 10) and objection.working_days
    assert step(clock, "object", D(2026, 10, 10)).stage is Stage.REGISTERED
    today = agenda(clock, CAL, D(2026, 10, 12))
    assert "已于 2026-10-10 届满" in today.refusal("object") and "accept" in today.allowed()


def test_an_answer_delivered_five_days_after_signing_and_a_request_on_the_last_day() -> None:
    """§35: 自收到书面答复之日起30日内; the last day (Dragon Boat Festival) rolls over."""
    clock = run([("accept", D(2026, 3, 20)), ("start", D(2026, 3, 23)),
                 ("reply", D(2026, 5, 15))])
    clock = deliver(clock, "handling_opinion", D(2026, 5, 20))
    # 20 May + 30 = Fri 19 Jun (端午节), then the weekend: Mon 22 Jun
    assert deadlines(clock, CAL)[0].due == D(2026, 6, 22)
    last_day = agenda(clock, CAL, D(2026, 6, 22))
    assert "request_review" in last_day.allowed()  # displayed day and check agree
    assert step(clock, "request_review", D(2026, 6, 22)).stage is Stage.REVIEW_REQUESTED
    with pytest.raises(IllegalTransition, match="已于 2026-06-22 届满"):
        step(clock, "request_review", D(2026, 6, 23))


def test_close_is_refused_while_the_petitioners_window_is_open() -> None:
    clock = run([("accept", D(2026, 3, 20)), ("start", D(2026, 3, 23)),
                 ("reply", D(2026, 5, 15))])
    assert "尚未送达" in agenda(clock, CAL, D(2026, 5, 15)).refusal("close")
    clock = deliver(clock, "handling_opinion", D(2026, 5, 20))
    for day in (D(2026, 5, 20), D(2026, 6, 22)):
        with pytest.raises(IllegalTransition, match="至 2026-06-22 届满，期满前不能办结"):
            step(clock, "close", day)
    assert step(clock, "close", D(2026, 6, 23)).stage is Stage.CLOSED
    waived = step(clock, "waive", D(2026, 6, 1))  # the petitioner's written waiver
    assert deadlines(waived, CAL) == []
    assert "已于 2026-06-01 书面放弃" in agenda(waived, CAL, D(2026, 6, 2)).refusal(
        "request_review")
    assert step(waived, "close", D(2026, 6, 1)).stage is Stage.CLOSED


def test_an_extension_of_twenty_days_asked_approved_and_announced() -> None:
    """§34: 经本机关、单位负责人批准……延长期限不得超过30日，并告知信访人延期理由."""
    clock = run([("accept", D(2026, 3, 10)), ("start", D(2026, 3, 11))])
    assert handling_due(clock, CAL) == D(2026, 5, 9)  # Saturday 9 May, a make-up working day
    with pytest.raises(IllegalTransition, match="尚未申请延期"):
        step(clock, "extend", D(2026, 4, 30))  # nobody asked
    asked = step(clock, "ask_extension", D(2026, 4, 30), extension_days=20)
    assert handling_due(asked, CAL) == D(2026, 5, 9)  # asking moves nothing
    assert "待本机关负责人批准" in agenda(asked, CAL, D(2026, 4, 30)).notes[0]
    with pytest.raises(IllegalTransition, match="负责人"):
        step(asked, "extend", D(2026, 5, 6), approved_by=" ")
    approved = step(asked, "extend", D(2026, 5, 6))
    assert approved.extension_approved_by == "王局长"
    assert extension_terms(approved, CAL) == (20, D(2026, 5, 29))  # 10 Mar + 80 days, a Friday
    running = {d.what: d.due for d in deadlines(approved, CAL)}
    assert running == {"出具信访处理意见书": D(2026, 5, 29),
                       "告知信访人延期理由（延期告知书）": D(2026, 5, 9)}
    told = step(approved, "notify_extension", D(2026, 5, 7))
    assert [d.what for d in deadlines(told, CAL)] == ["出具信访处理意见书"]
    with pytest.raises(IllegalTransition, match="只能延长一次"):
        step(told, "ask_extension", D(2026, 5, 8), extension_days=5)


def test_a_hearing_during_recheck_is_outside_its_period() -> None:
    """§36 ¶2: 听证所需时间不计算在前款规定的期限内 (the 复核 period; no other)."""
    clock = run([("accept", D(2026, 3, 10)), ("start", D(2026, 3, 11))])
    with pytest.raises(IllegalTransition, match="复核期限"):
        pause(clock, D(2026, 4, 1), D(2026, 4, 3), calendar=CAL)  # §34 excludes no time
    clock = step(clock, "reply", D(2026, 4, 20))
    clock = step(deliver(clock, "handling_opinion", D(2026, 4, 22)), "request_review",
                 D(2026, 5, 6))
    clock = step(clock, "answer_review", D(2026, 8, 10))
    clock = step(deliver(clock, "review_opinion", D(2026, 8, 12)), "request_recheck",
                 D(2026, 9, 10))
    # 10 Sep + 30 days = Saturday 10 Oct, a make-up working day
    assert deadlines(clock, CAL)[0].due == D(2026, 10, 10)
    heard = pause(clock, D(2026, 9, 21), D(2026, 9, 23), calendar=CAL)  # three days
    assert heard.paused_days == 3
    assert deadlines(heard, CAL)[0].due == D(2026, 10, 13)
    assert "不计入复核期限" in agenda(heard, CAL, D(2026, 9, 24)).notes[0]


# ---- documents make the steps

@pytest.mark.parametrize(("action", "evidence", "message"), [
    ("accept", None, "须签发受理告知书，或写明告知方式"),
    ("accept", Evidence(told="电话告知"), "须记录通话情况"),
    ("accept", Evidence(document="handling_opinion"), "不是受理的文书"),
    ("reply", Evidence(told="当面告知"), "须签发处理意见书"),
    ("assign", Evidence(told="信访人匿名"), "须签发交办单"),
])
def test_a_step_needs_its_document_or_how_the_petitioner_was_told(
    action: str, evidence: Evidence | None, message: str
) -> None:
    clock = run([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 4))]) if action == "reply" \
        else CaseClock(Stage.REGISTERED, RECEIVED)
    with pytest.raises(IllegalTransition, match=message):
        apply(clock, action, D(2026, 3, 5), calendar=CAL, evidence=evidence, decision="支持")


@pytest.mark.parametrize("evidence", [
    Evidence(told="当面告知"), Evidence(told="电话告知", note="3月5日 9:30 拨 139…，本人接听"),
    Evidence(told="信访人匿名"),  # §23 ¶2: 姓名（名称）、住址不清的除外
])
def test_acceptance_may_be_told_instead_of_written(evidence: Evidence) -> None:
    clock = CaseClock(Stage.REGISTERED, RECEIVED)
    assert apply(clock, "accept", D(2026, 3, 5), calendar=CAL,
                 evidence=evidence).stage is Stage.ACCEPTED


def test_the_documents_dates_come_from_the_same_clock() -> None:
    # the 交办单's 办理期限: 60 days from the 交办, rolled over 国庆节 (not received + 60)
    assert assignment_due(D(2026, 8, 2), CAL) == D(2026, 10, 8)


def test_delivery_is_checked() -> None:
    clock = run([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 4)), ("reply", D(2026, 4, 1))])
    with pytest.raises(IllegalTransition, match="早于签发日期"):
        deliver(clock, "handling_opinion", D(2026, 3, 31))
    with pytest.raises(IllegalTransition, match="复查意见书尚未签发"):
        deliver(clock, "review_opinion", D(2026, 4, 2))
    with pytest.raises(IllegalTransition, match="不起算期限"):
        deliver(clock, "acknowledgement", D(2026, 4, 2))


def test_the_receipt_date_is_the_clerks_and_never_in_the_future() -> None:
    clock = CaseClock(Stage.REGISTERED, D(2026, 3, 9))
    corrected = correct_receipt(clock, D(2026, 3, 2), today=D(2026, 3, 9))  # the postmark
    assert current_deadline(corrected, CAL).due == D(2026, 3, 17)  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition, match="晚于今天"):
        correct_receipt(clock, D(2026, 3, 10), today=D(2026, 3, 9))
    accepted = step(clock, "accept", D(2026, 3, 10))
    with pytest.raises(IllegalTransition, match="晚于已办理的第一步"):
        correct_receipt(accepted, D(2026, 3, 11), today=D(2026, 3, 12))


@pytest.mark.parametrize(("actions", "bad", "message"), [
    ([], ("reply", D(2026, 3, 3)), "不能出具处理意见"),
    ([("accept", D(2026, 3, 3))], ("accept", D(2026, 3, 4)), "可以：开始办理"),
    ([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 3))], ("ask_extension", D(2026, 6, 1)),
     "已于 2026-05-06 届满"),  # 2 May, in the Labour Day holiday
    ([("accept", D(2026, 3, 3))], ("start", D(2026, 3, 1)), "早于上一步"),
    ([("withdraw", D(2026, 3, 3))], ("accept", D(2026, 3, 4)), "已撤回"),
])
def test_illegal_actions_are_refused_with_a_reason(
    actions: list[tuple[str, dt.date]], bad: tuple[str, dt.date], message: str
) -> None:
    clock = run(actions)
    with pytest.raises(IllegalTransition, match=message):
        step(clock, bad[0], bad[1])
    assert message in agenda(clock, CAL, bad[1]).refusal(bad[0]) or bad[0] not in [
        a.action for a in agenda(clock, CAL, bad[1]).actions]


def test_a_reply_needs_one_of_the_three_decisions() -> None:
    clock = run([("accept", D(2026, 3, 3)), ("start", D(2026, 3, 4))])
    with pytest.raises(IllegalTransition, match="支持、解释说明、不予支持"):
        step(clock, "reply", D(2026, 3, 5), decision="同意")


# Random sequences: whatever is tried, the state stays legal, the clocks follow the rules, and
# the agenda's word on each action is what apply does.

ACTIONS = sorted(TRANSITIONS)


@settings(max_examples=300, deadline=None)
@given(
    received=st.dates(D(2025, 1, 1), D(2026, 3, 31)),
    steps=st.lists(st.tuples(st.sampled_from([*ACTIONS, "hearing", "deliver"]),
                             st.integers(0, 45), st.sampled_from(DECISIONS),
                             st.integers(-5, 40)), max_size=25),
)
def test_random_sequences_never_reach_an_illegal_state(
    received: dt.date, steps: list[tuple[str, int, str, int]]
) -> None:
    clock = CaseClock(Stage.REGISTERED, received)
    for action, gap, decision, extension in steps:
        try:
            clock = _try(clock, action, gap, decision, extension)
        except OutsideCalendar:
            break  # past the holiday table: refused by name (test_calendar)
    assert set(allowed_actions(clock.stage)) == {
        a for a, (sources, _) in TRANSITIONS.items() if clock.stage in sources
    }


def _try(clock: CaseClock, action: str, gap: int, decision: str, extension: int) -> CaseClock:
    """One random step, checked; returns the clock after it (the same one when refused)."""
    on = (clock.last_action_on or clock.received_on) + dt.timedelta(days=gap)
    before = clock
    if action == "hearing":  # `extension` is the hearing's length; negative ones are refused
        try:
            clock = pause(clock, on, on + dt.timedelta(days=extension), calendar=CAL)
        except IllegalTransition:
            return before
        assert before.stage is Stage.RECHECK_REQUESTED and extension >= 0
        assert clock.paused_days == before.paused_days + extension + 1
        _check_clocks(clock, CAL)
        return clock
    if action == "deliver":
        for document in ANSWERS:
            try:
                clock = deliver(clock, document, on)
            except IllegalTransition:
                continue
        _check_clocks(clock, CAL)
        return clock
    allowed_today = action in agenda(clock, CAL, on).allowed()
    try:
        clock = step(clock, action, on, decision=decision, extension_days=extension)
    except IllegalTransition:
        assert not allowed_today or (action == "ask_extension" and not 0 < extension <= 30)
        return before
    assert allowed_today
    sources, target = TRANSITIONS[action]
    assert before.stage in sources and before.stage not in TERMINAL
    assert clock.stage is (target or before.stage)
    assert clock.last_action_on == on
    _check_clocks(clock, CAL)
    return clock


def _check_clocks(clock: CaseClock, calendar: WorkCalendar) -> None:
    assert 0 <= clock.extension_days <= 30
    for deadline in deadlines(clock, calendar):
        assert calendar.is_working_day(deadline.due)
    if clock.stage in (Stage.ACCEPTED, Stage.HANDLING):
        assert clock.accepted_on is not None
        raw = clock.accepted_on + dt.timedelta(days=60 + clock.extension_days)
        assert raw <= handling_due(clock, calendar) <= raw + dt.timedelta(days=10)
    if clock.stage is Stage.REPLIED:
        assert clock.decision in DECISIONS and clock.replied_on is not None
    if clock.stage is Stage.CLOSED:
        assert clock.waived_on is not None or clock.recheck_replied_on is not None or any(
            d is not None for d in (clock.replied_delivered_on, clock.review_delivered_on))
    if clock.stage in TERMINAL:
        assert allowed_actions(clock.stage) == []
