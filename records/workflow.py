"""The case workflow of 《信访工作条例》 as an explicit state machine, with its statutory clocks.

Pure: a CaseClock goes in with an action and a date, a new CaseClock comes out, or
IllegalTransition says why not. ``agenda(clock, calendar, today)`` is the one answer to "what is
due, by when, and is this action allowed today"; the case page, the CLI, the API, the documents'
dates and the rates all read it (or the helpers it is made of). records.cases stores the result.

    registered ─┬─ accept ──────────► accepted ── start ──► handling ── reply ──► replied
                ├─ assign ──► assigned ┬─ receive_assignment (the unit's receipt, §23 ¶3)
                │                      ├─ accept ─► accepted          │ ask_extension → extend
                │                      ├─ start ──► handling          ▼ (leader) → notify_extension
                │                      └─ object ─► registered
                ├─ transfer ─► transferred (another organ is competent; ends here)
                └─ not_accept ─► not_accepted (ends here)
    replied ── request_review ─► review_requested ── answer_review ─► review_replied
    review_replied ── request_recheck ─► recheck_requested ── answer_recheck ─► recheck_replied
    replied | review_replied ── waive (the petitioner's written waiver) ─ close ─► closed
    recheck_replied ── close ─► closed;  any open stage ── withdraw

Days are counted as 民法典 §201/§203 say (the regulation is silent): the day of the event is
not counted, and a last day that is a day off moves to the next working day. Every window
runs from the petitioner's receipt of the written answer (§35, §36), i.e. its delivery date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from records import kinds
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

# Days of each clock; docs/regulation.md quotes the words of each article.
ROUTE_DAYS = 15  # §22: 登记……在15日内分别按照下列方式处理; §23 ¶2, ¶3: 15日内书面告知
OBJECT_WORKING_DAYS = 5  # §23 ¶3: 自收到之日起5个工作日内提出异议
HANDLE_DAYS = 60  # §34: 自受理之日起60日内办结 (item (六) of §31 only: records.kinds.period)
# The office's own 指定办理期限 (§22 (三)) for a matter the regulation sets no period for
# (建议意见, 检举控告, §31 (五)): counted from the 交办, or from the acceptance when the office
# handles it itself. The office's rule, written on its 交办单, not §34's.
OFFICE_HANDLE_DAYS = 60
MAX_EXTENSION_DAYS = 30  # §34: 延长期限不得超过30日
REQUEST_DAYS = 30  # §35, §36: 自收到书面答复之日起30日内请求复查 / 复核
ANSWER_DAYS = 30  # §35, §36: 自收到复查 / 复核请求之日起30日内提出意见

# How a petitioner may be told instead of by a generated document (§23); 电话告知 needs a note,
# and an anonymous matter (§23 ¶2: 信访人的姓名（名称）、住址不清的除外) needs no notice.
TOLD_WAYS = ("当面告知", "电话告知", "信访人匿名")

# The document whose signing is each step; steps marked in TELLS may instead record TOLD_WAYS.
STEP_DOCUMENTS = {
    "accept": "acknowledgement", "not_accept": "non_acceptance", "transfer": "transfer_notice",
    "assign": "assignment", "notify_extension": "extension_notice", "reply": "handling_opinion",
    "answer_review": "review_opinion", "answer_recheck": "re_review_opinion",
}
DOCUMENT_LABELS = {
    "acknowledgement": "受理告知书", "non_acceptance": "不予受理告知书",
    "transfer_notice": "转送告知单", "assignment": "交办单", "handling_opinion": "处理意见书",
    "extension_notice": "延期告知书", "review_opinion": "复查意见书",
    "re_review_opinion": "复核意见书", "service_receipt": "送达回证",
}
TELLS = frozenset({"accept", "not_accept", "transfer", "notify_extension"})
# The answers whose delivery starts the petitioner's window (§35, §36).
ANSWERS = {"handling_opinion": "replied", "review_opinion": "review_replied",
           "re_review_opinion": "recheck_replied"}

_ANY_OPEN = frozenset(Stage) - TERMINAL
_HANDLING = frozenset({Stage.ACCEPTED, Stage.HANDLING})
TRANSITIONS: dict[str, tuple[frozenset[Stage], Stage | None]] = {
    # target None: the stage stays, a date is recorded
    "accept": (frozenset({Stage.REGISTERED, Stage.ASSIGNED}), Stage.ACCEPTED),
    "not_accept": (frozenset({Stage.REGISTERED}), Stage.NOT_ACCEPTED),
    "transfer": (frozenset({Stage.REGISTERED}), Stage.TRANSFERRED),
    "assign": (frozenset({Stage.REGISTERED}), Stage.ASSIGNED),
    "receive_assignment": (frozenset({Stage.ASSIGNED}), None),
    "object": (frozenset({Stage.ASSIGNED}), Stage.REGISTERED),
    "start": (frozenset({Stage.ACCEPTED, Stage.ASSIGNED}), Stage.HANDLING),
    "ask_extension": (_HANDLING, None),
    "extend": (_HANDLING, None),
    "notify_extension": (_HANDLING, None),
    "reply": (_HANDLING, Stage.REPLIED),
    "request_review": (frozenset({Stage.REPLIED}), Stage.REVIEW_REQUESTED),
    "answer_review": (frozenset({Stage.REVIEW_REQUESTED}), Stage.REVIEW_REPLIED),
    "request_recheck": (frozenset({Stage.REVIEW_REPLIED}), Stage.RECHECK_REQUESTED),
    "answer_recheck": (frozenset({Stage.RECHECK_REQUESTED}), Stage.RECHECK_REPLIED),
    "waive": (frozenset({Stage.REPLIED, Stage.REVIEW_REPLIED}), None),
    "close": (frozenset({Stage.REPLIED, Stage.REVIEW_REPLIED, Stage.RECHECK_REPLIED}),
              Stage.CLOSED),
    "withdraw": (_ANY_OPEN, Stage.WITHDRAWN),
}

ACTION_LABELS = {
    "accept": "受理", "not_accept": "不予受理", "transfer": "转送", "assign": "交办",
    "receive_assignment": "承办单位签收交办", "object": "承办单位提出异议", "start": "开始办理",
    "ask_extension": "申请延期", "extend": "批准延期", "notify_extension": "告知延期",
    "reply": "出具处理意见", "request_review": "申请复查", "answer_review": "出具复查意见",
    "request_recheck": "申请复核", "answer_recheck": "出具复核意见",
    "waive": "信访人书面放弃复查（复核）", "close": "办结", "withdraw": "撤回",
}


class IllegalTransition(Exception):
    """An action the workflow does not allow now; the message says why and what is allowed."""


@dataclass(frozen=True)
class CaseClock:
    """Where a case is and the dates its clocks run from."""

    stage: Stage
    received_on: dt.date  # 收信日期: the postmark or date stamp the clerk entered
    assigned_on: dt.date | None = None  # the office's 交办
    assignment_received_on: dt.date | None = None  # the unit's own receipt (§23 ¶3)
    accepted_on: dt.date | None = None
    extension_asked_days: int = 0
    extension_days: int = 0  # approved by the organ's 负责人 (§34)
    extension_approved_by: str | None = None
    extension_notified_on: dt.date | None = None
    paused_days: int = 0  # days of hearings held during 复核, outside its period (§36 ¶2)
    replied_on: dt.date | None = None
    decision: str | None = None
    replied_delivered_on: dt.date | None = None
    review_requested_on: dt.date | None = None
    review_replied_on: dt.date | None = None
    review_delivered_on: dt.date | None = None
    recheck_requested_on: dt.date | None = None
    recheck_replied_on: dt.date | None = None
    recheck_delivered_on: dt.date | None = None
    waived_on: dt.date | None = None
    last_action_on: dt.date | None = None
    kind: str | None = None  # records.kinds: what the kind allows (None: 未分类, all as before)
    sub_kind: int | None = None


@dataclass(frozen=True)
class Evidence:
    """What makes a step: the signed document, or how the petitioner was told instead."""

    document: str | None = None  # a template key of STEP_DOCUMENTS
    told: str | None = None  # one of TOLD_WAYS
    note: str = ""


@dataclass(frozen=True)
class Deadline:
    """One clock: the office's duty (overdue when missed) or the petitioner's window."""

    kind: str  # "duty" or "window"
    what: str
    due: dt.date
    working_days: bool = False
    article: str = ""
    office: bool = False  # the office's own 指定办理期限 (§22 (三)), not a period of the law

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days

    def overdue(self, today: dt.date) -> bool:
        return self.kind == "duty" and today > self.due


@dataclass(frozen=True)
class ActionState:
    """One action on a given day: allowed, or refused with the reason in Chinese."""

    action: str
    label: str
    allowed: bool
    reason: str = ""
    needs: str = ""  # the document (or the way of telling) that makes the step


@dataclass(frozen=True)
class Agenda:
    """What is due, by when, and which actions are allowed on a given day."""

    stage: Stage
    today: dt.date
    deadlines: tuple[Deadline, ...]
    actions: tuple[ActionState, ...]
    notes: tuple[str, ...] = ()

    @property
    def current(self) -> Deadline | None:
        """The office's nearest duty, else the petitioner's window, else None."""
        duties = [d for d in self.deadlines if d.kind == "duty"]
        return min(duties or self.deadlines, key=lambda d: d.due, default=None)

    def allowed(self) -> list[str]:
        return [a.action for a in self.actions if a.allowed]

    def refusal(self, action: str) -> str:
        """Why `action` is refused today ("" when it is allowed)."""
        for state in self.actions:
            if state.action == action:
                return state.reason
        if action not in TRANSITIONS:
            return f"未知的操作 {action!r}"
        allowed = "、".join(a.label for a in self.actions if a.allowed) or "无"
        return f"事项“{STAGE_LABELS[self.stage]}”时不能{ACTION_LABELS[action]}（可以：{allowed}）"


def agenda(clock: CaseClock, calendar: WorkCalendar, today: dt.date) -> Agenda:
    """The running deadlines of a case and every action's standing today (the one answer)."""
    states = []
    for action in TRANSITIONS:
        sources, _ = TRANSITIONS[action]
        if clock.stage not in sources:
            continue
        reason = _refusal(clock, action, today, calendar) or ""
        states.append(ActionState(action, ACTION_LABELS[action], not reason, reason,
                                  _needs(action)))
    return Agenda(clock.stage, today, tuple(deadlines(clock, calendar)), tuple(states),
                  tuple(_notes(clock, calendar)))


def _needs(action: str) -> str:
    document = STEP_DOCUMENTS.get(action)
    if document is None:
        return ""
    label = f"签发{DOCUMENT_LABELS[document]}"
    return f"{label}，或登记{'、'.join(TOLD_WAYS)}" if action in TELLS else label


def allowed_actions(stage: Stage) -> list[str]:
    """The actions the workflow allows from a stage, in a stable order (dates aside)."""
    return [action for action, (sources, _) in TRANSITIONS.items() if stage in sources]


def due_on(start: dt.date, days: int, calendar: WorkCalendar) -> dt.date:
    """The last day of a period of `days` days from `start` (民法典 §201, §203)."""
    return next_working_day(start + dt.timedelta(days=days), calendar)


def next_working_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    while not calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def handling_due(clock: CaseClock, calendar: WorkCalendar, *,
                 with_extension: bool = True) -> dt.date:
    """§34: 60 days from acceptance, plus the approved extension (calendar days, rolled); for
    a kind §34 does not time, the office's own period from its 交办 (records.kinds.period)."""
    if kinds.period(clock.kind, clock.sub_kind) != kinds.STATUTORY:
        start = (clock.assigned_on or clock.accepted_on or clock.last_action_on
                 or clock.received_on)
        return due_on(start, OFFICE_HANDLE_DAYS, calendar)
    start = clock.accepted_on or clock.last_action_on or clock.received_on
    return due_on(start, HANDLE_DAYS + (clock.extension_days if with_extension else 0),
                  calendar)


# What the unit owes within its office period, in each kind's article's words.
OFFICE_DUTIES = {kinds.SUGGESTION: "研究论证并予以回复（第二十九条）",
                 kinds.ACCUSATION: "依规依纪依法办理和反馈（第三十条）",
                 kinds.CLAIM: "依法履行或者答复（第三十一条第五项）"}
OFFICE_ARTICLE = "第二十二条第三项"  # 要求其在指定办理期限内反馈结果


def handling_deadlines(clock: CaseClock, calendar: WorkCalendar) -> list[Deadline]:
    """The handling stage's clocks: §34 (item (六), unclassified), the office's, or none."""
    period = kinds.period(clock.kind, clock.sub_kind)
    if period == kinds.NO_PERIOD:
        return []
    if period == kinds.OFFICE:
        assert clock.kind is not None
        return [Deadline("duty", OFFICE_DUTIES[clock.kind], handling_due(clock, calendar),
                         article=OFFICE_ARTICLE, office=True)]
    running = [Deadline("duty", "出具信访处理意见书", handling_due(clock, calendar),
                        article="第三十四条")]
    if clock.extension_days and clock.extension_notified_on is None:
        running.append(Deadline("duty", "告知信访人延期理由（延期告知书）",
                                handling_due(clock, calendar, with_extension=False),
                                article="第三十四条"))
    return running


def assignment_due(assigned_on: dt.date, calendar: WorkCalendar) -> dt.date:
    """The 交办单's 办理期限 (§22(三) 指定办理期限): the office's period from the 交办."""
    return due_on(assigned_on, OFFICE_HANDLE_DAYS, calendar)


def extension_terms(clock: CaseClock, calendar: WorkCalendar) -> tuple[int, dt.date]:
    """The approved extension's real length and the new last day (for the 延期告知书)."""
    if not clock.extension_days:
        raise IllegalTransition("办理期限未经负责人批准延期，不能出具延期告知书")
    return clock.extension_days, handling_due(clock, calendar)


def window_due(clock: CaseClock, calendar: WorkCalendar) -> dt.date | None:
    """The last day the petitioner may ask for 复查 / 复核; None until the answer is delivered."""
    if clock.stage is Stage.REPLIED and clock.replied_delivered_on is not None:
        return due_on(clock.replied_delivered_on, REQUEST_DAYS, calendar)
    if clock.stage is Stage.REVIEW_REPLIED and clock.review_delivered_on is not None:
        return due_on(clock.review_delivered_on, REQUEST_DAYS, calendar)
    return None


def deadlines(clock: CaseClock, calendar: WorkCalendar) -> list[Deadline]:
    """The clocks running at this stage; a due date on a day off moves to the next working day."""
    stage = clock.stage
    if stage is Stage.REGISTERED:
        return [Deadline("duty", "转送、交办或受理并书面告知信访人",
                         due_on(clock.received_on, ROUTE_DAYS, calendar),
                         article="第二十二条、第二十三条第二款")]
    if stage is Stage.ASSIGNED:
        got = clock.assignment_received_on
        if got is None:
            return []
        return [
            Deadline("duty", "承办单位受理并书面告知信访人", due_on(got, ROUTE_DAYS, calendar),
                     article="第二十三条第三款"),
            Deadline("window", "承办单位提出异议",
                     calendar.add_working_days(got, OBJECT_WORKING_DAYS), working_days=True,
                     article="第二十三条第三款"),
        ]
    if stage in _HANDLING:
        return handling_deadlines(clock, calendar)
    if stage in (Stage.REPLIED, Stage.REVIEW_REPLIED):
        due = window_due(clock, calendar)
        if due is None or clock.waived_on is not None or not _chain(clock):
            return []
        what = "信访人请求复查" if stage is Stage.REPLIED else "信访人请求复核"
        article = "第三十五条" if stage is Stage.REPLIED else "第三十六条"
        return [Deadline("window", what, due, article=article)]
    if stage is Stage.REVIEW_REQUESTED:
        assert clock.review_requested_on is not None
        return [Deadline("duty", "提出复查意见并书面答复",
                         due_on(clock.review_requested_on, ANSWER_DAYS, calendar),
                         article="第三十五条")]
    if stage is Stage.RECHECK_REQUESTED:
        assert clock.recheck_requested_on is not None
        return [Deadline("duty", "提出复核意见",
                         due_on(clock.recheck_requested_on, ANSWER_DAYS + clock.paused_days,
                                calendar), article="第三十六条")]
    return []


def current_deadline(clock: CaseClock, calendar: WorkCalendar) -> Deadline | None:
    """The office's nearest duty, else the petitioner's window, else None (case has ended)."""
    running = deadlines(clock, calendar)
    duties = [d for d in running if d.kind == "duty"]
    return min(duties or running, key=lambda d: d.due, default=None)


def _notes(clock: CaseClock, calendar: WorkCalendar) -> list[str]:
    notes = []
    if clock.stage is Stage.ASSIGNED and clock.assignment_received_on is None:
        notes.append("承办单位尚未签收交办：其15日告知期限和5个工作日异议期自签收之日起计算"
                     "（第二十三条第三款）")
    if clock.stage in _HANDLING and kinds.period(clock.kind, clock.sub_kind) == kinds.NO_PERIOD:
        notes.append(f"{kinds.label(clock.kind, clock.sub_kind)}的事项导入相应程序处理"
                     "（第三十一条），不计信访办理期限")
    if clock.stage in _HANDLING and clock.extension_asked_days and not clock.extension_days:
        notes.append(f"已申请延期 {clock.extension_asked_days} 日，"
                     "待本机关负责人批准（第三十四条）")
    delivered = {Stage.REPLIED: clock.replied_delivered_on,
                 Stage.REVIEW_REPLIED: clock.review_delivered_on,
                 Stage.RECHECK_REPLIED: clock.recheck_delivered_on}
    if clock.stage in delivered and delivered[clock.stage] is None and _chain(clock):
        notes.append("书面答复尚未送达：信访人请求复查、复核的期限自收到书面答复之日起计算"
                     "（第三十五条、第三十六条）")
    if clock.waived_on is not None and clock.stage in (Stage.REPLIED, Stage.REVIEW_REPLIED):
        notes.append(f"信访人已于 {clock.waived_on} 书面放弃请求")
    if clock.stage is Stage.RECHECK_REQUESTED and clock.paused_days:
        notes.append(f"听证 {clock.paused_days} 日不计入复核期限（第三十六条第二款）")
    return notes


def _refusal(clock: CaseClock, action: str, on: dt.date,
             calendar: WorkCalendar) -> str | None:
    """Why the stage and the dates do not allow `action` on `on`; None when they do."""
    if action not in TRANSITIONS:
        return f"未知的操作 {action!r}"
    sources, _ = TRANSITIONS[action]
    label = ACTION_LABELS[action]
    if clock.stage not in sources:
        allowed = "、".join(ACTION_LABELS[a] for a in allowed_actions(clock.stage)) or "无"
        return f"事项“{STAGE_LABELS[clock.stage]}”时不能{label}（可以：{allowed}）"
    barred = kinds.refusal(clock.kind, clock.sub_kind, action)
    if barred:
        return barred
    earliest = clock.last_action_on or clock.received_on
    if on < earliest:
        return f"{label}的日期 {on} 早于上一步的日期 {earliest}"
    if action == "receive_assignment" and clock.assignment_received_on is not None:
        return f"承办单位已于 {clock.assignment_received_on} 签收交办"
    if action == "object":
        got = clock.assignment_received_on
        if got is None:
            return "承办单位尚未签收交办，先登记签收日期"
        last = calendar.add_working_days(got, OBJECT_WORKING_DAYS)
        if on > last:
            return f"异议期（收到交办之日起 {OBJECT_WORKING_DAYS} 个工作日）已于 {last} 届满"
    if action in ("ask_extension", "extend"):
        if clock.extension_days:
            return "办理期限只能延长一次"
        due = handling_due(clock, calendar)
        if on > due:
            return f"办理期限已于 {due} 届满，不能再延期"
        if action == "ask_extension" and clock.extension_asked_days:
            return f"已申请延期 {clock.extension_asked_days} 日，待负责人批准"
        if action == "extend" and not clock.extension_asked_days:
            return "承办人尚未申请延期（延期须经本机关负责人批准，第三十四条）"
    if action == "notify_extension":
        if not clock.extension_days:
            return "延期尚未经负责人批准"
        if clock.extension_notified_on is not None:
            return f"已于 {clock.extension_notified_on} 告知信访人延期理由"
    if action in ("request_review", "request_recheck"):
        window = window_due(clock, calendar)
        what = "复查" if action == "request_review" else "复核"
        if clock.waived_on is not None:
            return f"信访人已于 {clock.waived_on} 书面放弃请求{what}"
        if window is not None and on > window:
            return f"请求{what}的期限（收到书面答复之日起 {REQUEST_DAYS} 日）已于 {window} 届满"
    if action == "waive" and clock.waived_on is not None:
        return f"信访人已于 {clock.waived_on} 书面放弃"
    if action == "close":
        return _close_refusal(clock, on, calendar)
    return None


def _close_refusal(clock: CaseClock, on: dt.date, calendar: WorkCalendar) -> str | None:
    if clock.stage is Stage.RECHECK_REPLIED:
        if clock.recheck_delivered_on is None:
            return "复核意见书尚未送达，送达后方可办结"
        return None
    if clock.waived_on is not None or not _chain(clock):
        return None  # a matter without 复查/复核 (records.kinds) ends with its answer
    what = "复查" if clock.stage is Stage.REPLIED else "复核"
    due = window_due(clock, calendar)
    if due is None:
        return (f"书面答复尚未送达，信访人请求{what}的期限尚未起算，不能办结"
                "（信访人书面放弃或撤回的，先登记）")
    if on <= due:
        return (f"信访人请求{what}的期限至 {due} 届满，期满前不能办结"
                "（信访人书面放弃或撤回的，先登记）")
    return None


def _chain(clock: CaseClock) -> bool:
    return kinds.has_chain(clock.kind, clock.sub_kind)


def apply(
    clock: CaseClock,
    action: str,
    on: dt.date,
    *,
    calendar: WorkCalendar,
    decision: str | None = None,
    extension_days: int = MAX_EXTENSION_DAYS,
    evidence: Evidence | None = None,
    approved_by: str = "",
) -> CaseClock:
    """Take one action on a given day; refuse what the rules do not allow."""
    reason = _refusal(clock, action, on, calendar)
    if reason:
        raise IllegalTransition(reason)
    _check_evidence(action, evidence)
    _, target = TRANSITIONS[action]
    changes: dict[str, object] = {"stage": target or clock.stage, "last_action_on": on}
    if action == "assign":
        changes["assigned_on"] = on
    elif action == "receive_assignment":
        changes["assignment_received_on"] = on
    elif action == "object":
        changes["assigned_on"] = changes["assignment_received_on"] = None
    elif action in ("accept", "start") and clock.accepted_on is None:
        changes["accepted_on"] = on
        if clock.stage is Stage.ASSIGNED and clock.assignment_received_on is None:
            changes["assignment_received_on"] = on  # a unit that accepts has received it
    elif action == "ask_extension":
        if not 0 < extension_days <= MAX_EXTENSION_DAYS:
            raise IllegalTransition(f"延长期限不得超过 {MAX_EXTENSION_DAYS} 日")
        changes["extension_asked_days"] = extension_days
    elif action == "extend":
        if not approved_by.strip():
            raise IllegalTransition("延期须经本机关负责人批准：请写明批准的负责人")
        changes["extension_days"] = clock.extension_asked_days
        changes["extension_approved_by"] = approved_by.strip()
    elif action == "notify_extension":
        changes["extension_notified_on"] = on
    elif action == "reply":
        if decision not in DECISIONS:
            raise IllegalTransition(f"处理意见须为{'、'.join(DECISIONS)}之一")
        changes["replied_on"], changes["decision"] = on, decision
    elif action == "request_review":
        changes["review_requested_on"] = on
    elif action == "answer_review":
        changes["review_replied_on"] = on
    elif action == "request_recheck":
        changes["recheck_requested_on"] = on
    elif action == "answer_recheck":
        changes["recheck_replied_on"] = on
    elif action == "waive":
        changes["waived_on"] = on
    if action in ("answer_review", "request_recheck"):
        changes["waived_on"] = None
    return replace(clock, **changes)  # type: ignore[arg-type]


def document_evidence(action: str) -> Evidence | None:
    """The evidence that the step's own document was signed (None for a step without one)."""
    document = STEP_DOCUMENTS.get(action)
    return Evidence(document=document) if document else None


def _check_evidence(action: str, evidence: Evidence | None) -> None:
    document = STEP_DOCUMENTS.get(action)
    if document is None:
        return
    evidence = evidence or Evidence()
    if evidence.document == document:
        return
    label = ACTION_LABELS[action]
    if evidence.document is not None:
        raise IllegalTransition(f"{DOCUMENT_LABELS.get(evidence.document, evidence.document)}"
                                f"不是{label}的文书（应为{DOCUMENT_LABELS[document]}）")
    if action not in TELLS:
        raise IllegalTransition(f"{label}须签发{DOCUMENT_LABELS[document]}")
    if evidence.told not in TOLD_WAYS:
        raise IllegalTransition(f"{label}须签发{DOCUMENT_LABELS[document]}，"
                                f"或写明告知方式（{'、'.join(TOLD_WAYS)}）")
    if evidence.told == "电话告知" and not evidence.note.strip():
        raise IllegalTransition("电话告知须记录通话情况（时间、号码、接听人）")


def deliver(clock: CaseClock, document: str, on: dt.date) -> CaseClock:
    """The petitioner received a written answer on `on` (送达): the §35/§36 window starts."""
    if document not in ANSWERS:
        raise IllegalTransition(f"{DOCUMENT_LABELS.get(document, document)}的送达不起算期限")
    issued = getattr(clock, f"{ANSWERS[document]}_on")
    if issued is None:
        raise IllegalTransition(f"{DOCUMENT_LABELS[document]}尚未签发，不能登记送达")
    if on < issued:
        raise IllegalTransition(f"送达日期 {on} 早于签发日期 {issued}")
    field = {"handling_opinion": "replied_delivered_on", "review_opinion": "review_delivered_on",
             "re_review_opinion": "recheck_delivered_on"}[document]
    asked = {"handling_opinion": clock.review_requested_on,
             "review_opinion": clock.recheck_requested_on}.get(document)
    if asked is not None and on > asked:
        raise IllegalTransition(f"信访人已于 {asked} 提出请求，送达日期不能晚于该日")
    return replace(clock, **{field: on})  # type: ignore[arg-type]


def pause(clock: CaseClock, start: dt.date, end: dt.date, *,
          calendar: WorkCalendar) -> CaseClock:
    """A hearing during 复核, both days counted, is outside the 复核 period (§36 ¶2)."""
    if end < start:
        raise IllegalTransition(f"听证结束日期 {end} 早于开始日期 {start}")
    if clock.stage is not Stage.RECHECK_REQUESTED:
        raise IllegalTransition(
            f"听证所需时间只不计入复核期限（第三十六条第二款），事项现为“{STAGE_LABELS[clock.stage]}”"
        )
    assert clock.recheck_requested_on is not None
    if start < clock.recheck_requested_on:
        raise IllegalTransition(f"听证开始日期 {start} 早于收到复核请求的日期 "
                                f"{clock.recheck_requested_on}")
    due = deadlines(clock, calendar)[0].due
    if start > due:
        raise IllegalTransition(f"复核期限已于 {due} 届满，听证不能再中止期限")
    return replace(clock, paused_days=clock.paused_days + (end - start).days + 1)


def correct_receipt(clock: CaseClock, on: dt.date, today: dt.date) -> CaseClock:
    """The clerk's 收信日期 (postmark or date stamp): never in the future, never after a step."""
    if on > today:
        raise IllegalTransition(f"收信日期 {on} 晚于今天 {today}")
    first = min((d for d in (clock.assigned_on, clock.accepted_on, clock.last_action_on)
                 if d is not None), default=None)
    if first is not None and on > first:
        raise IllegalTransition(f"收信日期 {on} 晚于已办理的第一步 {first}")
    return replace(clock, received_on=on)
