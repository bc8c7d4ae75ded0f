"""The rates the office reports (两个提高、三个降低 and more), each with its definition.

Facts are read from the records and the audit log once (three queries); the rates are pure
functions of those facts, grouped by month of receipt, township or handling unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from records.calendar import WorkCalendar
from records.models import AuditEvent, Case, Letter, Unit
from records.workflow import ROUTE_DAYS, CaseClock, Stage, handling_due, next_working_day

ROUTING = ("accept", "assign", "transfer", "not_accept")
REPLIED = frozenset({Stage.REPLIED, Stage.REVIEW_REQUESTED, Stage.REVIEW_REPLIED,
                     Stage.RECHECK_REQUESTED, Stage.RECHECK_REPLIED, Stage.CLOSED})


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
    letters: int
    letters_after_reply: int
    routed_on: dt.date | None
    replied_on: dt.date | None
    handling_due: dt.date | None
    review_requested: bool  # 复查 asked (复核 can only follow it)
    satisfaction: str | None


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
                "definition": self.definition}


def _first_time(f: CaseFacts) -> bool:
    return "重复" not in f.flags


def _replied(f: CaseFacts) -> bool:
    return f.stage in REPLIED


# 四个不出: settled where it arose, by a township, village (community) or group unit.
LOCAL_LEVELS = frozenset({"township", "village", "group"})


def _settled_locally(f: CaseFacts) -> bool:
    return f.unit_level in LOCAL_LEVELS and not f.review_requested


Test = Callable[[CaseFacts], bool]

# key, name, definition, who counts (denominator), who succeeds (numerator)
RATES: tuple[tuple[str, str, str, Test, Test], ...] = (
    ("first_time_resolution", "初信初访办结率",
     "初信初访事项（未标记重复）中已出具处理意见书的比例",
     _first_time, _replied),
    ("settled", "息诉罢访率",
     "已出具处理意见书的事项中，信访人未申请复查、复核且答复后未再来信的比例",
     _replied, lambda f: not f.review_requested and f.letters_after_reply == 0),
    ("repeat", "重复来信来访率",
     "事项中标记重复或有两件以上来信的比例",
     lambda f: True, lambda f: "重复" in f.flags or f.letters > 1),
    ("bypass", "越级上访率", "事项中标记越级的比例", lambda f: True, lambda f: "越级" in f.flags),
    ("collective", "集体上访率", "事项中标记集体（五人以上或以群体名义）的比例",
     lambda f: True, lambda f: "集体" in f.flags),
    ("timely_acceptance", "及时受理率",
     f"已作出受理、交办、转送或不予受理决定的事项中，在收信之日起 {ROUTE_DAYS} 日内作出的比例",
     lambda f: f.routed_on is not None,
     lambda f: f.routed_on is not None and (f.routed_on - f.opened_on).days <= ROUTE_DAYS),
    ("on_time", "按期办结率",
     "已出具处理意见书的事项中，在办理期限（含延期）内出具的比例",
     lambda f: f.replied_on is not None and f.handling_due is not None,
     lambda f: f.replied_on is not None and f.handling_due is not None
     and f.replied_on <= f.handling_due),
    ("satisfaction", "满意率", "已评价的事项中评价为满意或基本满意的比例",
     lambda f: f.satisfaction is not None, lambda f: f.satisfaction in ("满意", "基本满意")),
    ("settled_locally", "四个不出率",
     "已出具处理意见书的事项中，由乡镇、村（社区）或组一级承办单位办理、"
     "且信访人未申请复查或复核的比例（矛盾就地化解）",
     _replied, _settled_locally),
)


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


def case_facts(session: Session, start: dt.date, end: dt.date,
               calendar: WorkCalendar) -> list[CaseFacts]:
    """Read the facts of every case received between start and end (inclusive)."""
    in_period = (Case.opened_on >= start, Case.opened_on <= end)
    # Columns, not Case objects: building 143,000 ORM objects (a prefecture's year) was most
    # of the time.
    rows = session.execute(
        select(Case.id, Case.status, Case.opened_on, Case.accepted_on, Case.extension_days,
               Case.paused_days, Case.township, Case.flags, Case.replied_on,
               Case.review_requested_on, Case.recheck_requested_on, Case.satisfaction,
               Unit.name, Unit.level)
        .outerjoin(Unit, Case.unit_id == Unit.id).where(*in_period)
    ).all()
    # The cases are named by a subquery, never by a list of ids: a year of a prefecture's
    # cases (~143,000 at a million letters) passes PostgreSQL's 65,535 parameters.
    cases = select(Case.id).where(*in_period).scalar_subquery()
    letters = dict(session.execute(
        select(Letter.case_id, func.count()).where(Letter.case_id.in_(cases))
        .group_by(Letter.case_id)
    ).all())
    after_reply: dict[int, int] = defaultdict(int)
    replied_on = {case.id: case.replied_on for case in rows if case.replied_on}
    replied = select(Case.id).where(*in_period, Case.replied_on.is_not(None)).scalar_subquery()
    for case_id, received in session.execute(
        select(Letter.case_id, Letter.received_on).where(Letter.case_id.in_(replied))
    ):
        if case_id is not None and received > replied_on[case_id]:
            after_reply[case_id] += 1
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
    facts = []
    for case in rows:
        stage = Stage(case.status)
        accepted = case.accepted_on
        due = None
        if accepted is not None:
            clock = CaseClock(stage, case.opened_on, accepted_on=accepted,
                              extension_days=case.extension_days, paused_days=case.paused_days)
            due = next_working_day(handling_due(clock), calendar)
        facts.append(CaseFacts(
            case_id=case.id, opened_on=case.opened_on, township=case.township,
            unit=case.name or "", unit_level=case.level or "",
            stage=stage, flags=frozenset(case.flags or ()), letters=letters.get(case.id, 0),
            letters_after_reply=after_reply.get(case.id, 0), routed_on=routed.get(case.id),
            replied_on=case.replied_on, handling_due=due,
            review_requested=(case.review_requested_on is not None
                              or case.recheck_requested_on is not None),
            satisfaction=case.satisfaction,
        ))
    return facts
