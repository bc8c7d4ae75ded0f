"""The rates the office reports (两个提高、三个降低 and more), each with its definition.

Facts are read from the records and the audit log in a few queries; the rates are pure
functions of those facts. Every date a rate compares is the workflow's own (records.workflow:
the same clock as the case page, the CLI, the API and the documents). RATE_TERMS writes each
rate's numerator, denominator and source beside it; docs/regulation.md repeats them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from records import kinds
from records.calendar import OutsideCalendar, WorkCalendar
from records.models import ADDRESSED_LEVELS, AuditEvent, Case, Letter, Settlement, Unit
from records.workflow import (
    HANDLE_DAYS,
    MAX_EXTENSION_DAYS,
    OFFICE_HANDLE_DAYS,
    REQUEST_DAYS,
    ROUTE_DAYS,
    Stage,
    due_on,
)

ROUTING = ("accept", "assign", "transfer", "not_accept")
REPLIED = frozenset({Stage.REPLIED, Stage.REVIEW_REQUESTED, Stage.REVIEW_REPLIED,
                     Stage.RECHECK_REQUESTED, Stage.RECHECK_REPLIED, Stage.CLOSED})
COLLECTIVE_PEOPLE = 5  # §20 ¶3: 多人……走访……代表人数不得超过5人
# How far back a handling deadline can lie from its acceptance (60 + 30 days and a holiday).
_LONGEST_HANDLING = dt.timedelta(days=HANDLE_DAYS + MAX_EXTENSION_DAYS + 15)


@dataclass(frozen=True)
class CaseFacts:
    """What the rates need to know of one case."""

    case_id: int
    opened_on: dt.date
    township: str
    unit: str
    unit_level: str  # county / township / village / group; "" when not assigned
    stage: Stage
    flags: frozenset[str]
    received_in_period: bool  # else only its handling deadline fell in the period
    route_due: dt.date
    routed_on: dt.date | None
    unrouted_late: bool  # still registered after its routing deadline
    accepted_on: dt.date | None
    replied_on: dt.date | None
    handling_due: dt.date | None
    due_in_period: bool  # the handling deadline fell in the period and has passed
    window_closed: bool  # the §35 window is over: used, waived, or its last day passed
    review_requested: bool  # 复查 asked (复核 can only follow it)
    came_back: bool  # a letter after the answer's delivery, or to a second organ
    bypass: bool  # a visit beyond the competent organ's level and the one above (§20)
    collective: bool  # a visit of five or more people (§20 ¶3)
    satisfaction: str | None
    followed_up: bool = False  # more than one letter on the matter
    not_accepted_again: bool = False  # a letter not accepted under §36 ¶3 or §19 ¶3
    settled_on: dt.date | None = None  # a §33 agreement (调解、和解协议书) ended the matter


@dataclass(frozen=True)
class Rate:
    key: str
    name: str
    definition: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "name": self.name, "value": self.value,
                "numerator": self.numerator, "denominator": self.denominator,
                "definition": self.definition, **dict(zip(
                    ("numerator_is", "denominator_is", "source"),
                    RATE_TERMS.get(self.key, ("", "", "")), strict=True))}


def _received(f: CaseFacts) -> bool:
    return f.received_in_period


def _replied(f: CaseFacts) -> bool:
    return f.stage in REPLIED


def _concluded_on(f: CaseFacts) -> dt.date | None:
    """办结: the 处理意见书 signed, or else the §33 agreement that ended the matter."""
    return f.replied_on if f.replied_on is not None else f.settled_on


# 四个不出: settled where it arose, by a township, village (community) or group unit.
LOCAL_LEVELS = frozenset({"township", "village", "group"})


def _settled_locally(f: CaseFacts) -> bool:
    return f.unit_level in LOCAL_LEVELS and not f.review_requested


Test = Callable[[CaseFacts], bool]

# key, name, definition, who counts (denominator), who succeeds (numerator)
RATES: tuple[tuple[str, str, str, Test, Test], ...] = (
    ("first_time_resolution", "初信初访办结率",
     "已受理的初信初访事项中，已出具处理意见书或经调解、和解办结（第三十三条）的比例",
     lambda f: _received(f) and not f.came_back and "重复" not in f.flags
     and f.accepted_on is not None,
     lambda f: _concluded_on(f) is not None),
    ("settled", "息诉罢访率",
     f"请求复查期限（送达之日起 {REQUEST_DAYS} 日）已过的已答复事项中，信访人未请求复查、"
     "答复后也未再来信来访的比例",
     lambda f: _received(f) and _replied(f) and f.window_closed,
     lambda f: not f.review_requested and not f.came_back),
    ("repeat", "重复来信来访率",
     "事项中答复送达后又来信来访、向第二个机关提出或经登记人标记重复的比例（同一事项的补充材料不计）",
     _received, lambda f: f.came_back or "重复" in f.flags),
    ("bypass", "越级上访率",
     "事项中有走访越过有权处理机关本级和上一级（第二十条）的比例（来信不是走访）",
     _received, lambda f: f.bypass),
    ("collective", "集体上访率", f"事项中有 {COLLECTIVE_PEOPLE} 人以上共同走访的比例",
     _received, lambda f: f.collective),
    ("timely_acceptance", "及时受理率",
     f"已分办或分办期限（收信之日起 {ROUTE_DAYS} 日）已过的事项中，在期限内作出受理、交办、"
     "转送或不予受理决定的比例",
     lambda f: _received(f) and (f.routed_on is not None or f.unrouted_late),
     lambda f: f.routed_on is not None and f.routed_on <= f.route_due),
    ("on_time", "按期办结率",
     "办理期限在统计期内届满的已受理事项中，在期限内出具处理意见书或经调解、和解办结的比例"
     "（未办结的计为逾期）。办理期限：第三十一条第六项和未分类事项按第三十四条（受理之日起"
     "60日，含经批准的延期）；建议意见、检举控告和第三十一条第五项事项按本办指定的办理期限"
     "（第二十二条第三项，交办之日起60日）；第一至四项事项导入其他法定程序，不计",
     lambda f: f.due_in_period,
     lambda f: (done := _concluded_on(f)) is not None and f.handling_due is not None
     and done <= f.handling_due),
    ("satisfaction", "满意率", "信访人作出评价的事项中评价为满意或基本满意的比例",
     lambda f: _received(f) and f.satisfaction is not None,
     lambda f: f.satisfaction in ("满意", "基本满意")),
    ("settled_locally", "四个不出率",
     "已出具处理意见书的事项中，由乡镇、村（社区）或组一级承办单位办理、"
     "且信访人未申请复查或复核的比例（矛盾就地化解）",
     lambda f: _received(f) and _replied(f), _settled_locally),
    ("not_accepted_again", "再次来信不予受理率",
     "收到再次来信的事项中，有来信因复核终结（第三十六条第三款）或在办理期限内向上级重复提出"
     "（第十九条第三款）而不予受理的比例",
     lambda f: _received(f) and f.followed_up, lambda f: f.not_accepted_again),
)

# key: (numerator, denominator, source): what each rate counts, written beside it.
RATE_TERMS: dict[str, tuple[str, str, str]] = {
    "first_time_resolution": (
        "其中已出具处理意见书（签发）或达成调解、和解协议的",
        "统计期内收信、已受理、不是重复的事项",
        "case.accepted_on、case.replied_on、settlement.signed_on；重复见重复来信来访率"),
    "settled": (
        "其中未请求复查且送达后无来信来访的",
        "统计期内收信、已答复、复查期限已过（或已请求、已书面放弃）的事项",
        "case.replied_delivered_on（送达）、review_requested_on、waived_on、letter.received_on"),
    "repeat": (
        "其中送达后又来信来访、向第二个层级机关提出或标记重复的", "统计期内收信的事项",
        "letter.received_on、letter.addressed_level、case.replied_delivered_on、case.flags"),
    "bypass": (
        "其中有走访去向高于承办单位上一级的", "统计期内收信的事项",
        "letter.channel = visit、letter.addressed_level、unit.level（未交办按县级）"),
    "collective": (
        f"其中有 {COLLECTIVE_PEOPLE} 人以上走访的", "统计期内收信的事项",
        "letter.channel = visit、letter.people"),
    "timely_acceptance": (
        f"其中分办日期不晚于收信之日起 {ROUTE_DAYS} 日（顺延至工作日）的",
        "统计期内收信、已分办或分办期限已过仍未分办的事项",
        "审计日志中第一次受理、交办、转送或不予受理的日期；case.opened_on（收信日期）"),
    "on_time": (
        "其中处理意见书签发日期（或调解、和解协议签订日期）不晚于期限的",
        "办理期限在统计期内届满（且已届满）的已受理事项：第三十一条第六项和未分类事项按"
        "第三十四条，建议意见、检举控告、第五项按本办指定期限；第一至四项不计",
        "case.kind、sub_kind、accepted_on、assigned_on、extension_days（经批准）、"
        "case.replied_on、settlement.signed_on"),
    "satisfaction": (
        "其中满意或基本满意的", "统计期内收信、信访人作出评价的事项",
        "case.satisfaction（信访人的评价，每件一次：网上查询页面自评，或电话、当面告知后登记，"
        "方式见 case.satisfaction_way）"),
    "settled_locally": (
        "其中由乡镇、村、组承办且未请求复查复核的", "统计期内收信、已答复的事项",
        "unit.level、case.review_requested_on、recheck_requested_on"),
    "not_accepted_again": (
        "其中有来信经登记人决定依第三十六条第三款或第十九条第三款不予受理的",
        "统计期内收信、有两件以上来信的事项",
        "letter.not_accepted_under（records.termination.decide）；这些来信仍计入重复来信来访率"),
}


def rates(facts: Iterable[CaseFacts]) -> list[Rate]:
    """Every rate over one group of cases."""
    facts = list(facts)
    out = []
    for key, name, definition, counts, succeeds in RATES:
        base = [f for f in facts if counts(f)]
        out.append(Rate(key, name, definition, sum(1 for f in base if succeeds(f)), len(base)))
    return out


GROUPINGS: dict[str, Callable[[CaseFacts], str]] = {
    "month": lambda f: f.opened_on.strftime("%Y-%m"),
    "township": lambda f: f.township or "（未填）",
    "unit": lambda f: f.unit or "（未交办）",
}


def grouped_rates(facts: Iterable[CaseFacts], by: str | None) -> dict[str, list[Rate]]:
    """Rates for all cases ("全部") or for each month, township or unit."""
    facts = list(facts)
    if by is None:
        return {"全部": rates(facts)}
    groups: dict[str, list[CaseFacts]] = defaultdict(list)
    for f in facts:
        groups[GROUPINGS[by](f)].append(f)
    return {name: rates(members) for name, members in sorted(groups.items())}


def _rank(level: str | None) -> int:
    return ADDRESSED_LEVELS.index(level) if level in ADDRESSED_LEVELS else \
        ADDRESSED_LEVELS.index("county")


def case_facts(session: Session, start: dt.date, end: dt.date, calendar: WorkCalendar,
               today: dt.date | None = None) -> list[CaseFacts]:
    """The facts of every case received between start and end (inclusive), and of every case
    whose handling deadline fell between them; `today` (default: the day after `end`) says
    which deadlines and windows are over."""
    today = today or end + dt.timedelta(days=1)
    received = and_(Case.opened_on >= start, Case.opened_on <= end)
    due_maybe = or_(
        and_(Case.accepted_on >= start - _LONGEST_HANDLING, Case.accepted_on <= end),
        # the office's period runs from the 交办, which a late acceptance may follow by far
        and_(Case.accepted_on.is_not(None), Case.assigned_on >= start - _LONGEST_HANDLING,
             Case.assigned_on <= end))
    in_scope = or_(received, due_maybe)
    # Columns, not Case objects: building 143,000 ORM objects (a prefecture's year) was most
    # of the time.
    rows = session.execute(
        select(Case.id, Case.status, Case.opened_on, Case.accepted_on, Case.extension_days,
               Case.kind, Case.sub_kind, Case.assigned_on,
               Case.township, Case.flags, Case.replied_on, Case.replied_delivered_on,
               Case.review_requested_on, Case.recheck_requested_on, Case.waived_on,
               Case.satisfaction, Unit.name, Unit.level)
        .outerjoin(Unit, Case.unit_id == Unit.id).where(in_scope)
    ).all()
    # The cases are named by a subquery, never by a list of ids: a year of a prefecture's
    # cases (~143,000 at a million letters) passes PostgreSQL's 65,535 parameters.
    cases = select(Case.id).where(in_scope).scalar_subquery()
    answered = func.coalesce(Case.replied_delivered_on, Case.replied_on)
    after_answer = set(session.scalars(
        select(Letter.case_id).join(Case, Letter.case_id == Case.id)
        .where(Letter.case_id.in_(cases), answered.is_not(None),
               Letter.received_on > answered).distinct()))
    second_organ = set(session.scalars(
        select(Letter.case_id).where(Letter.case_id.in_(cases)).group_by(Letter.case_id)
        .having(func.count(Letter.addressed_level.distinct()) > 1)))
    letters_of: dict[int | None, tuple[int, int]] = {
        case_id: (count, refused) for case_id, count, refused in session.execute(
            select(Letter.case_id, func.count(), func.count(Letter.not_accepted_under))
            .where(Letter.case_id.in_(cases)).group_by(Letter.case_id))}
    settled: dict[int, dt.date] = {case_id: on for case_id, on in session.execute(
        select(Settlement.case_id, Settlement.signed_on).where(Settlement.case_id.in_(cases)))}
    visits: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for case_id, level, people in session.execute(
            select(Letter.case_id, Letter.addressed_level, Letter.people)
            .where(Letter.case_id.in_(cases), Letter.channel == "visit")):
        if case_id is not None:
            visits[case_id].append((level, people))
    # The first routing step of each case, found in SQL: a year of a busy office holds
    # hundreds of thousands of transition events, whose JSON Python need not read.
    first_routing = (
        select(func.min(AuditEvent.id))
        .where(AuditEvent.entity == "case", AuditEvent.action == "transition",
               AuditEvent.entity_id.in_(cases),
               AuditEvent.detail["step"].as_string().in_(ROUTING))
        .group_by(AuditEvent.entity_id)
    )
    routed = {
        entity_id: dt.date.fromisoformat(on)
        for entity_id, on in session.execute(
            select(AuditEvent.entity_id, AuditEvent.detail["on"].as_string())
            .where(AuditEvent.id.in_(first_routing)))
    }
    known_until = max(end, today)

    def due(start: dt.date, days: int) -> dt.date:
        """The period's last day; past the calendar's years, the earliest it can be. Every
        date a rate compares it with (the period, today, a reply) lies before those years, so
        the earliest decides the same comparisons; otherwise the refusal stands."""
        try:
            return due_on(start, days, calendar)
        except OutsideCalendar:
            earliest = start + dt.timedelta(days=days)
            if earliest <= known_until:
                raise
            return earliest

    facts = []
    for case in rows:
        stage = Stage(case.status)
        handling = None
        period = kinds.period(case.kind, case.sub_kind)
        if case.accepted_on is not None and period == kinds.STATUTORY:
            handling = due(case.accepted_on, HANDLE_DAYS + case.extension_days)
        elif case.accepted_on is not None and period == kinds.OFFICE:
            handling = due(case.assigned_on or case.accepted_on, OFFICE_HANDLE_DAYS)
        window_closed = (case.review_requested_on is not None or case.waived_on is not None
                         or (case.replied_delivered_on is not None
                             and due(case.replied_delivered_on, REQUEST_DAYS) < today))
        competent = _rank(case.level or "county")
        route_due = due(case.opened_on, ROUTE_DAYS)
        facts.append(CaseFacts(
            case_id=case.id, opened_on=case.opened_on, township=case.township,
            unit=case.name or "", unit_level=case.level or "",
            stage=stage, flags=frozenset(case.flags or ()),
            received_in_period=start <= case.opened_on <= end,
            route_due=route_due, routed_on=routed.get(case.id),
            unrouted_late=case.id not in routed and stage is Stage.REGISTERED
            and route_due < today,
            accepted_on=case.accepted_on,
            replied_on=case.replied_on, handling_due=handling,
            due_in_period=handling is not None and start <= handling <= end and handling < today,
            window_closed=window_closed,
            review_requested=(case.review_requested_on is not None
                              or case.recheck_requested_on is not None),
            came_back=case.id in after_answer or case.id in second_organ,
            bypass=any(_rank(level) > competent + 1 for level, _ in visits[case.id]),
            collective=any(people >= COLLECTIVE_PEOPLE for _, people in visits[case.id]),
            satisfaction=case.satisfaction,
            followed_up=letters_of.get(case.id, (0, 0))[0] > 1,
            not_accepted_again=letters_of.get(case.id, (0, 0))[1] > 0,
            settled_on=settled.get(case.id),
        ))
    return facts
