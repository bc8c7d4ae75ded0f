"""The case workflow of 《信访工作条例》 as an explicit state machine, with its statutory clocks.

Pure: a CaseClock goes in with an action and a date, a new CaseClock comes out, or
IllegalTransition says why not. records.cases stores the result and its audit event.

    registered ─┬─ accept ──────────► accepted ── start ──► handling ── reply ──► replied
                ├─ assign ──► assigned ┬─ accept ─► accepted      │ extend (once, ≤ 30 days)
                │                      ├─ start ──► handling      ▼
                │                      └─ object ─► registered
                ├─ transfer ─► transferred (another organ is competent; ends here)
                └─ not_accept ─► not_accepted (ends here)
    replied ── request_review ─► review_requested ── answer_review ─► review_replied
    review_replied ── request_recheck ─► recheck_requested ── answer_recheck ─► recheck_replied
    replied | review_replied | recheck_replied ── close ─► closed;  any open stage ── withdraw
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from records.calendar import WorkCalendar


class Stage(StrEnum):
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    TRANSFERRED = "transferred"
    ASSIGNED = "assigned"
    HANDLING = "handling"
    REPLIED = "replied"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_REPLIED = "review_replied"
    RECHECK_REQUESTED = "recheck_requested"
    RECHECK_REPLIED = "recheck_replied"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


STAGE_LABELS = {
    Stage.REGISTERED: "已登记", Stage.ACCEPTED: "已受理", Stage.NOT_ACCEPTED: "不予受理",
    Stage.TRANSFERRED: "已转送", Stage.ASSIGNED: "已交办", Stage.HANDLING: "办理中",
    Stage.REPLIED: "已答复", Stage.REVIEW_REQUESTED: "复查中", Stage.REVIEW_REPLIED: "已复查",
    Stage.RECHECK_REQUESTED: "复核中", Stage.RECHECK_REPLIED: "已复核（终结）",
    Stage.CLOSED: "已办结", Stage.WITHDRAWN: "已撤回",
}

TERMINAL = frozenset({Stage.NOT_ACCEPTED, Stage.TRANSFERRED, Stage.CLOSED, Stage.WITHDRAWN})
DECISIONS = ("支持", "解释说明", "不予支持")

# Days of each clock (《信访工作条例》 §§22, 23, 32, 35, 36).
ROUTE_DAYS = 15  # transfer or assign, and tell the petitioner
OBJECT_WORKING_DAYS = 5  # a unit that is not competent objects
HANDLE_DAYS = 60  # issue the handling opinion from acceptance
MAX_EXTENSION_DAYS = 30
REQUEST_DAYS = 30  # the petitioner may ask for 复查 / 复核
ANSWER_DAYS = 30  # the reviewing organ answers

_ANY_OPEN = frozenset(Stage) - TERMINAL
TRANSITIONS: dict[str, tuple[frozenset[Stage], Stage]] = {
    "accept": (frozenset({Stage.REGISTERED, Stage.ASSIGNED}), Stage.ACCEPTED),
    "not_accept": (frozenset({Stage.REGISTERED}), Stage.NOT_ACCEPTED),
    "transfer": (frozenset({Stage.REGISTERED}), Stage.TRANSFERRED),
    "assign": (frozenset({Stage.REGISTERED}), Stage.ASSIGNED),
    "object": (frozenset({Stage.ASSIGNED}), Stage.REGISTERED),
    "start": (frozenset({Stage.ACCEPTED, Stage.ASSIGNED}), Stage.HANDLING),
    "extend": (frozenset({Stage.HANDLING}), Stage.HANDLING),
    "reply": (frozenset({Stage.HANDLING}), Stage.REPLIED),
    "request_review": (frozenset({Stage.REPLIED}), Stage.REVIEW_REQUESTED),
    "answer_review": (frozenset({Stage.REVIEW_REQUESTED}), Stage.REVIEW_REPLIED),
    "request_recheck": (frozenset({Stage.REVIEW_REPLIED}), Stage.RECHECK_REQUESTED),
    "answer_recheck": (frozenset({Stage.RECHECK_REQUESTED}), Stage.RECHECK_REPLIED),
    "close": (frozenset({Stage.REPLIED, Stage.REVIEW_REPLIED, Stage.RECHECK_REPLIED}),
              Stage.CLOSED),
    "withdraw": (_ANY_OPEN, Stage.WITHDRAWN),
}

ACTION_LABELS = {
    "accept": "受理", "not_accept": "不予受理", "transfer": "转送", "assign": "交办",
    "object": "承办单位提出异议", "start": "开始办理", "extend": "延期", "reply": "出具处理意见",
    "request_review": "申请复查", "answer_review": "出具复查意见",
    "request_recheck": "申请复核", "answer_recheck": "出具复核意见", "close": "办结",
    "withdraw": "撤回",
}


class IllegalTransition(Exception):
    """An action the workflow does not allow now; the message says why and what is allowed."""


@dataclass(frozen=True)
class CaseClock:
    """Where a case is and the dates its clocks run from."""

    stage: Stage
    received_on: dt.date
    assigned_on: dt.date | None = None
    accepted_on: dt.date | None = None
    extension_days: int = 0
    paused_days: int = 0  # days of hearings (听证) held while the handling clock ran
    replied_on: dt.date | None = None
    decision: str | None = None
    review_requested_on: dt.date | None = None
    review_replied_on: dt.date | None = None
    recheck_requested_on: dt.date | None = None
    recheck_replied_on: dt.date | None = None
    last_action_on: dt.date | None = None


@dataclass(frozen=True)
class Deadline:
    """One clock: the office's duty (overdue when missed) or the petitioner's window."""

    kind: str  # "duty" or "window"
    what: str
    due: dt.date
    working_days: bool = False

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days

    def overdue(self, today: dt.date) -> bool:
        return self.kind == "duty" and today > self.due


def allowed_actions(stage: Stage) -> list[str]:
    """The actions the workflow allows from a stage, in a stable order."""
    return [action for action, (sources, _) in TRANSITIONS.items() if stage in sources]


def apply(
    clock: CaseClock,
    action: str,
    on: dt.date,
    *,
    calendar: WorkCalendar,
    decision: str | None = None,
    extension_days: int = MAX_EXTENSION_DAYS,
) -> CaseClock:
    """Take one action on a given day; refuse what the rules do not allow."""
    if action not in TRANSITIONS:
        raise IllegalTransition(f"unknown action {action!r}")
    sources, target = TRANSITIONS[action]
    label = ACTION_LABELS[action]
    if clock.stage not in sources:
        allowed = "、".join(ACTION_LABELS[a] for a in allowed_actions(clock.stage)) or "无"
        raise IllegalTransition(
            f"事项“{STAGE_LABELS[clock.stage]}”时不能{label}（可以：{allowed}）"
        )
    earliest = clock.last_action_on or clock.received_on
    if on < earliest:
        raise IllegalTransition(f"{label}的日期 {on} 早于上一步的日期 {earliest}")
    changes: dict[str, object] = {"stage": target, "last_action_on": on}
    if action == "assign":
        changes["assigned_on"] = on
    elif action == "object":
        assert clock.assigned_on is not None
        last = calendar.add_working_days(clock.assigned_on, OBJECT_WORKING_DAYS)
        if on > last:
            raise IllegalTransition(f"异议期（{OBJECT_WORKING_DAYS} 个工作日）已于 {last} 届满")
        changes["assigned_on"] = None
    elif action in ("accept", "start") and clock.accepted_on is None:
        changes["accepted_on"] = on
    elif action == "extend":
        if clock.extension_days:
            raise IllegalTransition("办理期限只能延长一次")
        if not 0 < extension_days <= MAX_EXTENSION_DAYS:
            raise IllegalTransition(f"延长期限不得超过 {MAX_EXTENSION_DAYS} 日")
        due = next_working_day(handling_due(clock), calendar)
        if on > due:
            raise IllegalTransition(f"办理期限已于 {due} 届满，不能再延期")
        changes["extension_days"] = extension_days
    elif action == "reply":
        if decision not in DECISIONS:
            raise IllegalTransition(f"处理意见须为{'、'.join(DECISIONS)}之一")
        changes["replied_on"], changes["decision"] = on, decision
    elif action == "request_review":
        _within_window(clock.replied_on, on, "复查")
        changes["review_requested_on"] = on
    elif action == "answer_review":
        changes["review_replied_on"] = on
    elif action == "request_recheck":
        _within_window(clock.review_replied_on, on, "复核")
        changes["recheck_requested_on"] = on
    elif action == "answer_recheck":
        changes["recheck_replied_on"] = on
    return replace(clock, **changes)  # type: ignore[arg-type]


def handling_due(clock: CaseClock) -> dt.date:
    """60 days from acceptance, plus the one extension and the hearings' days (calendar days)."""
    start = clock.accepted_on or clock.last_action_on or clock.received_on
    return start + dt.timedelta(days=HANDLE_DAYS + clock.extension_days + clock.paused_days)


def pause(clock: CaseClock, start: dt.date, end: dt.date, *,
          calendar: WorkCalendar) -> CaseClock:
    """A hearing (听证) from start to end, both days counted, stops the handling clock."""
    if end < start:
        raise IllegalTransition(f"听证结束日期 {end} 早于开始日期 {start}")
    if clock.stage not in (Stage.ACCEPTED, Stage.HANDLING):
        raise IllegalTransition(
            f"听证只在办理期间中止办理期限，事项现为“{STAGE_LABELS[clock.stage]}”"
        )
    assert clock.accepted_on is not None
    if start < clock.accepted_on:
        raise IllegalTransition(f"听证开始日期 {start} 早于受理日期 {clock.accepted_on}")
    due = next_working_day(handling_due(clock), calendar)
    if start > due:
        raise IllegalTransition(f"办理期限已于 {due} 届满，听证不能再中止期限")
    return replace(clock, paused_days=clock.paused_days + (end - start).days + 1)


def deadlines(clock: CaseClock, calendar: WorkCalendar) -> list[Deadline]:
    """The clocks running at this stage; a due date on a day off moves to the next working day."""

    def days(start: dt.date | None, n: int, kind: str, what: str) -> Deadline:
        assert start is not None
        return Deadline(kind, what, next_working_day(start + dt.timedelta(days=n), calendar))

    stage = clock.stage
    if stage is Stage.REGISTERED:
        return [days(clock.received_on, ROUTE_DAYS, "duty", "转送、交办或受理并书面告知")]
    if stage is Stage.ASSIGNED:
        assert clock.assigned_on is not None
        objection = calendar.add_working_days(clock.assigned_on, OBJECT_WORKING_DAYS)
        return [
            days(clock.received_on, ROUTE_DAYS, "duty", "受理并书面告知信访人"),
            Deadline("window", "承办单位提出异议", objection, working_days=True),
        ]
    if stage in (Stage.ACCEPTED, Stage.HANDLING):
        due = next_working_day(handling_due(clock), calendar)
        return [Deadline("duty", "出具信访事项处理意见书", due)]
    if stage is Stage.REPLIED:
        return [days(clock.replied_on, REQUEST_DAYS, "window", "信访人申请复查")]
    if stage is Stage.REVIEW_REQUESTED:
        return [days(clock.review_requested_on, ANSWER_DAYS, "duty", "出具复查意见书")]
    if stage is Stage.REVIEW_REPLIED:
        return [days(clock.review_replied_on, REQUEST_DAYS, "window", "信访人申请复核")]
    if stage is Stage.RECHECK_REQUESTED:
        return [days(clock.recheck_requested_on, ANSWER_DAYS, "duty", "出具复核意见书")]
    return []


def current_deadline(clock: CaseClock, calendar: WorkCalendar) -> Deadline | None:
    """The office's nearest duty, else the petitioner's window, else None (case has ended)."""
    running = deadlines(clock, calendar)
    duties = [d for d in running if d.kind == "duty"]
    return min(duties or running, key=lambda d: d.due, default=None)


def _within_window(start: dt.date | None, on: dt.date, what: str) -> None:
    assert start is not None
    if (on - start).days > REQUEST_DAYS:
        raise IllegalTransition(f"申请{what}的期限（答复之日起 {REQUEST_DAYS} 日）已过")


def next_working_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day
