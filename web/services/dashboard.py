"""工作台 figures: the work still owed and the office's rates, each with the rows behind it.

Pure queries over the records (no Flask), shared by the pages and the JSON API. Every figure is
defined once, in `_query` (its FROM and WHERE); its count is an SQL aggregate over that query and
its list a SELECT of rows from the same query, so a number and the list behind it cannot
disagree.

Metrics (`rows_behind(metric=...)`):
    without_reply  letters with no reply at all yet (web.services.replies.letters_without_reply)
    due_soon       open cases whose office duty falls due within the next 3 working days
    overdue        open cases whose office duty is past due (records.cases.due, overdue_only)
    received       letters received in the period;  opened: cases received in the period
    rate           the cases counted by one rate of records.stats (key=..., part=numerator |
                   denominator): received in the period, or (按期办结率) whose deadline fell in it

The rates are records.stats's own: which cases each counts comes from records.stats.case_facts
(the workflow's clock), read once per state of the records and written into the SQL as id
lists, so that the tables are summed by the database in one GROUP BY; the sums are kept until
the records change (the newest audit event that is not a read tells).
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import case as when
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from records import Case, Letter, Reply, Unit, User, audit, cases, kinds, stats, urgency
from records.calendar import WorkCalendar
from records.workflow import (
    ANSWER_DAYS,
    HANDLE_DAYS,
    OFFICE_HANDLE_DAYS,
    ROUTE_DAYS,
    STAGE_LABELS,
    TERMINAL,
    Stage,
)
from web.services.access import CONSOLE, SignedIn, not_accusing
from web.services.cache import Kept
from web.services.instance import Instance


@dataclass(frozen=True)
class Scope:
    """The cases a reader's figures count: its units' (None: all), never one that accuses it
    (§30 ¶3; the same cases as access.case_scope, whether or not the reader may list them)."""

    units: frozenset[int] | None = None
    hidden: frozenset[int] = frozenset()


# Whose figures: a signed-in reader (its units, less what accuses it), or bare unit ids.
Reader = SignedIn | frozenset[int] | None


def _seen(reader: Reader | Scope) -> Scope:
    """The scope of a reader: a signed-in user's is its units less the cases accusing it."""
    if isinstance(reader, Scope):
        return reader
    if isinstance(reader, SignedIn):
        if reader.role == CONSOLE:
            return Scope()
        return Scope(reader.unit_ids, reader.hidden)
    return Scope(reader)

DUE_SOON_WORKING_DAYS = 3
NO_UNIT, NO_LEAD, NO_TOWNSHIP = "（未交办）", "（未指定）", "（未填）"

WORK: dict[str, tuple[str, str, str]] = {  # metric: (rows are, name, definition)
    "without_reply": ("letter", "未答复来信",
                      "已登记、尚未生成任何答复文书（告知书、意见书等）的来信"),
    "due_soon": ("case", "即将到期",
                 f"未办结事项中，信访机构的期限（法定期限，或条例未规定期限的事项由本办指定的"
                 f"办理期限）在今后 {DUE_SOON_WORKING_DAYS} 个工作日内（含今日）届满的事项"),
    "overdue": ("case", "已超期", "未办结事项中，信访机构的期限（法定期限，或条例未规定期限的"
                "事项由本办指定的办理期限）已经届满而尚未完成的事项；导入其他法定程序的"
                "第三十一条第一至四项事项不计"),
    "urgent": ("case", "重大紧急", "未办结、标记为重大紧急信访事项（第二十五条）的事项"),
}
PERIOD_METRICS: dict[str, tuple[str, str]] = {
    "received": ("letter", "收到来信"), "opened": ("case", "收到的事项"),
}
RATE_NAMES = {key: (name, definition) for key, name, definition, _, _ in stats.RATES}
REPLIED = [s.value for s in stats.REPLIED]


class days_after(FunctionElement[dt.date]):  # noqa: N801 (an SQL function's name)
    """SQL `day + n` days, n an integer expression (SQLite and PostgreSQL)."""

    type = Date()
    inherit_cache = True
    name = "days_after"


@compiles(days_after, "sqlite")
def _days_after_sqlite(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    day, n = list(element.clauses)
    return (f"date({compiler.process(day, **kw)}, "
            f"'+' || ({compiler.process(n, **kw)}) || ' days')")


@compiles(days_after)
def _days_after_default(element: days_after, compiler: SQLCompiler, **kw: Any) -> str:
    day, n = list(element.clauses)  # PostgreSQL: date + integer is a date
    return f"({compiler.process(day, **kw)} + ({compiler.process(n, **kw)}))"


@dataclass(frozen=True)
class Period:
    """The days whose letters and cases the period figures count (both ends included)."""

    start: dt.date
    end: dt.date

    @classmethod
    def months(cls, first: str, last: str) -> Period:
        """From the first day of month `first` to the last of month `last` ("2026-03")."""
        start = dt.date.fromisoformat(f"{first}-01")
        after = dt.date.fromisoformat(f"{last}-01") + dt.timedelta(days=32)
        return cls(start, after.replace(day=1) - dt.timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))


@dataclass(frozen=True)
class Filter:
    """A breakdown cell: one unit, leader, township or month (None: not narrowed)."""

    unit: int | None | str = "*"  # a unit id, None for 未交办, "*" for any
    lead: int | None | str = "*"
    township: str | None = None
    month: str | None = None  # "2026-03"


ANY = Filter()


# ---------------------------------------------------------------------------------------------
# The definitions: one WHERE clause per figure.


def _scope(scope: Scope) -> ColumnElement[bool]:
    """Cases of the user's units, none accusing it; a letter is seen through its case
    (access.letter_scope: a letter without a case is hidden from no one)."""
    mine = true() if scope.units is None else Case.unit_id.in_(sorted(scope.units))
    if not scope.hidden:
        return mine
    return and_(mine, or_(Case.id.is_(None), Case.id.not_in(sorted(scope.hidden))))


def _last_working_day_before(day: dt.date, calendar: WorkCalendar) -> dt.date:
    day -= dt.timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _duty_base() -> ColumnElement[dt.date]:
    """The day the office's running duty falls due, before moving off a day of rest.

    records.workflow.deadlines, stage by stage; NULL where no duty runs (a window or the end).
    The real due day is the first working day on or after it.
    """
    handling_start = func.coalesce(Case.accepted_on, Case.last_action_on, Case.opened_on)
    office_start = func.coalesce(Case.assigned_on, handling_start)
    # an approved extension not yet told to the petitioner is due by the first period's end
    untold = and_(Case.extension_days > 0, Case.extension_notified_on.is_(None))
    handling = Case.status.in_([Stage.ACCEPTED.value, Stage.HANDLING.value])
    # records.kinds.period: §34 for item (六) and the unclassified, none for items (一)-(四)
    statutory = or_(Case.kind.is_(None), and_(Case.kind == kinds.CLAIM, Case.sub_kind == 6))
    elsewhere = and_(Case.kind == kinds.CLAIM, Case.sub_kind.in_(sorted(kinds.CHANNELS)))
    return when(
        (Case.status == Stage.REGISTERED.value, days_after(Case.opened_on, literal(ROUTE_DAYS))),
        (Case.status == Stage.ASSIGNED.value,  # the unit's own receipt (§23 ¶3)
         days_after(Case.assignment_received_on, literal(ROUTE_DAYS))),
        (and_(handling, elsewhere), None),
        (and_(handling, ~statutory),  # the office's own 交办 period (§22 (三))
         days_after(office_start, literal(OFFICE_HANDLE_DAYS))),
        (and_(handling, untold), days_after(handling_start, literal(HANDLE_DAYS))),
        (handling, days_after(handling_start, HANDLE_DAYS + Case.extension_days)),
        (Case.status == Stage.REVIEW_REQUESTED.value,
         days_after(Case.review_requested_on, literal(ANSWER_DAYS))),
        (Case.status == Stage.RECHECK_REQUESTED.value,  # hearings are outside it (§36 ¶2)
         days_after(Case.recheck_requested_on, ANSWER_DAYS + Case.paused_days)),
        else_=None,
    )


DUTY_STAGES = [Stage.REGISTERED.value, Stage.ASSIGNED.value, Stage.ACCEPTED.value,
               Stage.HANDLING.value, Stage.REVIEW_REQUESTED.value, Stage.RECHECK_REQUESTED.value]


def _duty_state(today: dt.date, calendar: WorkCalendar) -> ColumnElement[str]:
    """"overdue", "due_soon" or NULL for a case, by its running duty.

    With L the last working day before today, a duty due (after moving to a working day) before
    today is one whose base day is on or before L; due by the working day W three working days
    from today: base day after L and on or before W (W is itself a working day).
    """
    base = _duty_base()
    return when((base <= _last_working_day_before(today, calendar), "overdue"),
                (base <= calendar.add_working_days(today, DUE_SOON_WORKING_DAYS), "due_soon"),
                else_=None)


def _work_where(metric: str, today: dt.date, calendar: WorkCalendar) -> ColumnElement[bool]:
    """Without reply; due soon, overdue (or "clock": either, for counting both at once)."""
    if metric == "without_reply":
        return ~exists().where(Reply.letter_id == Letter.id)
    state = _duty_state(today, calendar)
    if metric == "clock":
        return and_(Case.status.in_(DUTY_STAGES), state.is_not(None))
    if metric in ("overdue", "due_soon"):
        return and_(Case.status.in_(DUTY_STAGES), state == metric)
    if metric == "urgent":
        return and_(Case.status.not_in([s.value for s in TERMINAL]), urgency.urgent_clause())
    raise ValueError(f"unknown metric {metric!r}")


class _Rates:
    """records.stats' rates as clauses over Case and its Unit: which cases each rate counts
    and which succeed come from records.stats.case_facts (the same clock as the case pages and
    `huiyin stats`), named in SQL as literal id lists (no bound parameter per case)."""

    def __init__(self, session: Session, period: Period, scope: Scope, calendar: WorkCalendar,
                 today: dt.date) -> None:
        facts = _facts(session, period, calendar, min(period.end + dt.timedelta(days=1), today))
        self.cases = _ids(f.case_id for f in facts)
        self.tests: dict[str, tuple[ColumnElement[bool], ColumnElement[bool]]] = {}
        for key, _name, _definition, counts, succeeds in stats.RATES:
            counted = [f for f in facts if counts(f)]
            self.tests[key] = (_ids(f.case_id for f in counted),
                               _ids(f.case_id for f in counted if succeeds(f)))
        missing = set(RATE_NAMES) ^ set(self.tests)
        assert not missing, f"rates not written as SQL: {missing}"

    def base(self, query: Any) -> Select[Any]:
        """FROM case and its unit."""
        return query.select_from(Case).outerjoin(Unit, Case.unit_id == Unit.id)

    def where(self, key: str, part: str) -> ColumnElement[bool]:
        if key not in self.tests:
            raise ValueError(f"unknown rate {key!r}")
        counts, succeeds = self.tests[key]
        if part == "denominator":
            return counts
        if part == "numerator":
            return and_(counts, succeeds)
        raise ValueError(f"part must be numerator or denominator, not {part!r}")


def _ids(ids: Iterable[int]) -> ColumnElement[bool]:
    """Case.id among these, written into the statement (a year at a prefecture holds more
    cases than PostgreSQL's 65,535 parameters)."""
    chosen = sorted(set(ids))
    if not chosen:
        return false()
    return Case.id.in_(bindparam(None, chosen, expanding=True, literal_execute=True))


_FACTS: dict[tuple[Any, ...], list[stats.CaseFacts]] = {}
_FACTS_LOCK = threading.Lock()


def _facts(session: Session, period: Period, calendar: WorkCalendar,
           today: dt.date) -> list[stats.CaseFacts]:
    """The period's facts, read once per state of the records (the newest change)."""
    key = (*_records_state(session), period, today, calendar.holidays, calendar.workdays)
    with _FACTS_LOCK:
        kept = _FACTS.get(key)
    if kept is None:
        kept = stats.case_facts(session, period.start, period.end, calendar, today=today)
        with _FACTS_LOCK:
            _FACTS.clear()  # one state at a time: older ones are never asked again
            _FACTS[key] = kept
    return kept


def _month_of(day: Any) -> ColumnElement[str]:
    """"2026-03" of a date column (its ISO text's first seven characters)."""
    return func.substr(cast(day, String), 1, 7)


def _in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column <= period.end)


def _narrow(flt: Filter, day: Any) -> list[ColumnElement[bool]]:
    """The clauses of one breakdown cell."""
    clauses: list[ColumnElement[bool]] = []
    if flt.unit != "*":
        clauses.append(Case.unit_id.is_(None) if flt.unit is None else Case.unit_id == flt.unit)
    if flt.lead != "*":
        clauses.append(Case.lead_id.is_(None) if flt.lead is None else Case.lead_id == flt.lead)
    if flt.township is not None:
        clauses.append(Case.township == flt.township)
    if flt.month is not None:
        clauses.append(_in_period(day, Period.months(flt.month, flt.month)))
    return clauses


def _query(session: Session, metric: str, *, scope: Scope, today: dt.date,
           calendar: WorkCalendar, period: Period | None, key: str | None, part: str,
           flt: Filter, columns: Iterable[Any], join_case: bool = True) -> Select[Any]:
    """THE query behind a figure, with the given columns: counts and lists both come from it.

    `join_case=False` (letters counted without their case's columns, in every scope and
    cell): the same rows, since a letter has at most one case, without reading the cases.
    """
    where: list[ColumnElement[bool]] = [_scope(scope)]
    kind = WORK[metric][0] if metric in WORK else PERIOD_METRICS.get(metric, ("case",))[0]
    if metric in WORK or metric == "clock":
        where.append(_work_where(metric, today, calendar))
        day: Any = Letter.received_on if kind == "letter" else Case.opened_on
    elif metric in ("received", "opened", "rate"):
        if period is None:
            raise ValueError(f"metric {metric!r} needs a period")
        day = Letter.received_on if kind == "letter" else Case.opened_on
        where.append(_in_period(day, period))
    else:
        raise ValueError(f"unknown metric {metric!r}")
    where.extend(_narrow(flt, day))
    query = select(*columns)
    if metric == "rate":
        assert period is not None and key is not None
        rates = _Rates(session, period, scope, calendar, today)
        # the facts decide which cases each rate counts (by receipt, or by deadline)
        return rates.base(query).where(*where[:1], *where[2:], rates.cases,
                                       rates.where(key, part))
    if kind == "letter" and not join_case:
        if scope != Scope() or (flt.unit, flt.lead, flt.township) != ("*", "*", None):
            raise ValueError("a letter's scope and cell are its case's: join the cases")
        return query.select_from(Letter).where(*where)
    if kind == "letter":
        return query.select_from(Letter).outerjoin(Case, Letter.case_id == Case.id).where(*where)
    return query.select_from(Case).where(*where)


def _names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    users = {i: d or u for i, u, d in session.execute(
        select(User.id, User.username, User.display_name))}
    return units, users


# ---------------------------------------------------------------------------------------------
# The public face.


def summary(instance: Instance, reader: Reader, today: dt.date,
            period: Period | None = None) -> dict[str, Any]:
    """Every figure of the 工作台: the work owed now, and the rates of the period (of the
    reader's scope: never counting a case that accuses it, §30 ¶3)."""
    period = period or Period.year(today.year)
    scope_unit_ids = _seen(reader)
    with instance.db.session() as session:
        units, users = _names(session)
        key = _state(session, instance.calendar, units, users, period, scope_unit_ids, today)
        kept = _SUMMARIES.get(key)
        if kept is not None:
            return copy.deepcopy(kept)
        work = _work_figures(session, instance.calendar, scope_unit_ids, today, units, users)
        tables = _rate_tables(session, instance.calendar, period, today, scope_unit_ids,
                              units)
    figures = {"today": today.isoformat(),
               "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
               "work": work, **tables}
    _SUMMARIES.put(key, figures)
    return copy.deepcopy(figures)


def state(instance: Instance, reader: Reader, today: dt.date,
          period: Period) -> tuple[Any, ...]:
    """What `summary` depends on: equal states give equal figures (a key for what is kept)."""
    scope_unit_ids = _seen(reader)
    with instance.db.session() as session:
        units, users = _names(session)
        return _state(session, instance.calendar, units, users, period, scope_unit_ids, today)


def _state(session: Session, calendar: WorkCalendar, units: dict[int, str],
           users: dict[int, str], period: Period,
           scope: Scope, today: dt.date) -> tuple[Any, ...]:
    return (*_records_state(session), period, scope, today, tuple(sorted(units.items())),
            tuple(sorted(users.items())), calendar.holidays, calendar.workdays)


def _work_figures(session: Session, calendar: WorkCalendar, scope: Scope, today: dt.date,
                  units: dict[int, str], users: dict[int, str]) -> dict[str, Any]:
    """Each work figure: its total, by handling unit and by responsible leader."""
    by_unit: dict[str, dict[int | None, int]] = {m: defaultdict(int) for m in WORK}
    by_lead: dict[str, dict[int | None, int]] = {m: defaultdict(int) for m in WORK}
    letters = _query(session, "without_reply", scope=scope, today=today, calendar=calendar,
                     period=None, key=None, part="", flt=ANY,
                     columns=[literal("without_reply"), Case.unit_id, Case.lead_id, func.count()])
    state = _duty_state(today, calendar)  # overdue and due soon in one pass over the cases
    clocks = _query(session, "clock", scope=scope, today=today, calendar=calendar,
                    period=None, key=None, part="", flt=ANY,
                    columns=[state, Case.unit_id, Case.lead_id, func.count()])
    urgent = _query(session, "urgent", scope=scope, today=today, calendar=calendar,
                    period=None, key=None, part="", flt=ANY,
                    columns=[literal("urgent"), Case.unit_id, Case.lead_id, func.count()])
    for query, group in ((letters, (Case.unit_id, Case.lead_id)),
                         (clocks, (state, Case.unit_id, Case.lead_id)),
                         (urgent, (Case.unit_id, Case.lead_id))):
        for metric, unit_id, lead_id, n in session.execute(query.group_by(*group)):
            by_unit[metric][unit_id] += n
            by_lead[metric][lead_id] += n
    return {metric: {
        "metric": metric, "rows_are": kind, "name": name, "definition": definition,
        "count": sum(by_unit[metric].values()),
        "by_unit": _ranked(by_unit[metric], units, NO_UNIT),
        "by_lead": _ranked(by_lead[metric], users, NO_LEAD),
    } for metric, (kind, name, definition) in WORK.items()}


def _ranked(counts: dict[int | None, int], names: dict[int, str],
            missing: str) -> list[dict[str, Any]]:
    rows = [{"id": ident, "name": names.get(ident, missing) if ident is not None else missing,
             "count": n} for ident, n in counts.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["name"]))


_TABLES = Kept()
_SUMMARIES = Kept()  # the whole page's figures


def _rate_tables(session: Session, calendar: WorkCalendar, period: Period, today: dt.date,
                 scope: Scope, units: dict[int, str]) -> dict[str, Any]:
    """The rate tables, summed again only when the records changed.

    Keyed by the state of the records (see _records_state).
    """
    key = (*_records_state(session), period, scope, today, tuple(sorted(units.items())),
           calendar.holidays, calendar.workdays)
    kept = _TABLES.get(key)
    if kept is not None:
        return kept
    tables = _sum_rate_tables(session, calendar, period, today, scope, units)
    _TABLES.put(key, tables)
    return tables


def _records_state(session: Session) -> tuple[str, int | None]:
    """Which database, and the newest change to its records (records.audit.newest_change)."""
    return str(session.get_bind().engine.url), audit.newest_change(session)


def _sum_rate_tables(session: Session, calendar: WorkCalendar, period: Period, today: dt.date,
                     scope: Scope, units: dict[int, str]) -> dict[str, Any]:
    """All rates of the period, overall and by township, unit and month, from one GROUP BY."""
    rates = _Rates(session, period, scope, calendar, today)
    month = _month_of(Case.opened_on)
    sums = []
    for key in RATE_NAMES:
        counts, succeeds = rates.tests[key]
        sums += [func.sum(when((counts, 1), else_=0)),
                 func.sum(when((and_(counts, succeeds), 1), else_=0))]
    query = rates.base(select(Case.township, Case.unit_id, month, func.count(), *sums))
    query = query.where(_scope(scope), rates.cases).group_by(
        Case.township, Case.unit_id, month)
    zero = [0] * (1 + 2 * len(RATE_NAMES))
    groups: dict[str, dict[Any, list[int]]] = {
        "all": defaultdict(lambda: list(zero)), "township": defaultdict(lambda: list(zero)),
        "unit": defaultdict(lambda: list(zero)), "month": defaultdict(lambda: list(zero))}
    for township, unit_id, in_month, *numbers in session.execute(query):
        for by, ident in (("all", None), ("township", township), ("unit", unit_id),
                          ("month", in_month)):
            total = groups[by][ident]
            for i, value in enumerate(numbers):
                total[i] += int(value or 0)

    def table(by: str, label: Any) -> list[dict[str, Any]]:
        return [{"id": ident, "name": label(ident), "cases": numbers[0],
                 "rates": _rate_list(numbers[1:])}
                for ident, numbers in sorted(groups[by].items(), key=lambda kv: label(kv[0]))]

    overall = groups["all"][None]
    return {
        "cases": overall[0],
        "rates": _rate_list(overall[1:]),
        "by_township": table("township", lambda t: t or NO_TOWNSHIP),
        "by_unit": table("unit", lambda u: units.get(u, NO_UNIT) if u is not None else NO_UNIT),
        "by_month": table("month", lambda m: m),
    }


def _rate_list(numbers: list[int]) -> list[dict[str, Any]]:
    out = []
    for i, (key, (name, definition)) in enumerate(RATE_NAMES.items()):
        denominator, numerator = numbers[2 * i], numbers[2 * i + 1]
        out.append(stats.Rate(key, name, definition, numerator, denominator).as_dict())
    return out


def monthly(instance: Instance, year: int, reader: Reader,
            today: dt.date | None = None, *,
            figures: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Month by month of one year: letters received, cases opened and every rate.

    `figures`: a `summary` of the same scope; when its period is this year, its months are
    used rather than summed again.
    """
    today = today or instance.today()
    period = Period.year(year)
    scope_unit_ids = _seen(reader)
    with instance.db.session() as session:
        month = _month_of(Letter.received_on)
        letters: dict[str, int] = dict(session.execute(_query(
            session, "received", scope=scope_unit_ids, today=today, calendar=instance.calendar,
            period=period, key=None, part="", flt=ANY, columns=[month, func.count()],
            join_case=scope_unit_ids != Scope()).group_by(month)).all())
        whole = {"from": period.start.isoformat(), "to": period.end.isoformat()}
        if figures is not None and figures["period"] == whole:
            tables = figures
        else:
            units, _ = _names(session)
            tables = _rate_tables(session, instance.calendar, period, today, scope_unit_ids,
                                  units)
    by_month = {row["id"]: row for row in tables["by_month"]}
    out = []
    for m in range(1, 13):
        label = f"{year:04d}-{m:02d}"
        row = by_month.get(label)
        out.append({"month": label, "letters": int(letters.get(label, 0)),
                    "cases": row["cases"] if row else 0,
                    "rates": row["rates"] if row else _rate_list([0] * 2 * len(RATE_NAMES))})
    return out


def count(instance: Instance, metric: str, reader: Reader, today: dt.date, *,
          period: Period | None = None, key: str | None = None, part: str = "numerator",
          flt: Filter = ANY) -> int:
    """How many rows `rows_behind` gives for the same arguments (SELECT count over its query)."""
    with instance.db.session() as session:
        query = _query(session, metric, scope=_seen(reader), today=today,
                       calendar=instance.calendar, period=period, key=key, part=part, flt=flt,
                       columns=[func.count()])
        return int(session.scalar(query) or 0)


def rows_behind(instance: Instance, metric: str, scope: Reader, today: dt.date, *,
                period: Period | None = None, key: str | None = None,
                part: str = "numerator", flt: Filter = ANY, limit: int | None = None,
                offset: int = 0, reader: SignedIn | None = None) -> list[dict[str, Any]]:
    """The letters or cases a figure counts (metric and arguments as for `count`); never,
    for a `reader`, a case that accuses it (§30 ¶3)."""
    kind = WORK[metric][0] if metric in WORK else PERIOD_METRICS.get(metric, ("case",))[0]
    seen = _seen(scope)
    with instance.db.session() as session:
        units, users = _names(session)
        if kind == "letter":
            query = _query(session, metric, scope=seen, today=today,
                           calendar=instance.calendar, period=period, key=key, part=part,
                           flt=flt, columns=[Letter, Case])
            query = query.order_by(Letter.received_on, Letter.id)
        else:
            query = _query(session, metric, scope=seen, today=today,
                           calendar=instance.calendar, period=period, key=key, part=part,
                           flt=flt, columns=[Case, literal(None)])
            order = _duty_base() if metric in WORK else Case.opened_on
            query = query.order_by(order, Case.id)
        if reader is not None:
            query = query.where(not_accusing(reader))
        query = query.offset(offset).limit(limit)
        found = session.execute(query).all()
        if kind == "letter":
            return [_letter_row(letter, case, units, users, instance, today)
                    for letter, case in found]
        return [_case_row(case, units, users, instance, today) for case, _ in found]


def _owner(case: Case | None, units: dict[int, str], users: dict[int, str]) -> dict[str, Any]:
    unit_id = case.unit_id if case else None
    lead_id = case.lead_id if case else None
    return {"unit_id": unit_id, "unit": units.get(unit_id, NO_UNIT) if unit_id else NO_UNIT,
            "lead_id": lead_id, "lead": users.get(lead_id, NO_LEAD) if lead_id else NO_LEAD}


def _clock(case: Case, instance: Instance, today: dt.date) -> dict[str, Any]:
    clock = cases.deadline(case, instance.calendar)
    if clock is None:
        return {"deadline": None, "deadline_for": None, "days_left": None, "overdue": False}
    return {"deadline": clock.due.isoformat(), "deadline_for": clock.what,
            "days_left": clock.days_left(today), "overdue": clock.overdue(today)}


def _case_row(case: Case, units: dict[int, str], users: dict[int, str], instance: Instance,
              today: dt.date) -> dict[str, Any]:
    return {"case_id": case.id, "case_no": case.case_no, "title": case.title,
            "township": case.township, "stage": case.status,
            "stage_label": STAGE_LABELS[Stage(case.status)],
            "opened_on": case.opened_on.isoformat(), "flags": list(case.flags),
            **_owner(case, units, users), **_clock(case, instance, today)}


def _letter_row(letter: Letter, case: Case | None, units: dict[int, str],
                users: dict[int, str], instance: Instance, today: dt.date) -> dict[str, Any]:
    row = {"letter_id": letter.id, "reg_no": letter.reg_no,
           "received_on": letter.received_on.isoformat(), "summary": letter.summary,
           "township": letter.township, "case_id": case.id if case else None,
           "case_no": case.case_no if case else None, **_owner(case, units, users)}
    if case is not None:
        row.update(_clock(case, instance, today))
    return row


def describe(metric: str, key: str | None = None, part: str = "numerator") -> dict[str, str]:
    """The name and definition of a figure, for the heading of its list."""
    if metric in WORK:
        _, name, definition = WORK[metric]
    elif metric in PERIOD_METRICS:
        name, definition = PERIOD_METRICS[metric][1], "期间内收到（登记）的全部" + (
            "来信" if PERIOD_METRICS[metric][0] == "letter" else "事项")
    elif metric == "rate" and key in RATE_NAMES and part in ("numerator", "denominator"):
        name, definition = RATE_NAMES[key]
        name += "（分子）" if part == "numerator" else "（分母）"
    else:
        raise ValueError(f"unknown figure {metric!r} {key!r}")
    return {"name": name, "definition": definition,
            "rows_are": WORK[metric][0] if metric in WORK else
            PERIOD_METRICS.get(metric, ("case",))[0]}


__all__ = ["ANY", "PERIOD_METRICS", "RATE_NAMES", "WORK", "Filter", "Period", "Reader", "Scope",
           "count",
           "describe", "monthly", "rows_behind", "summary"]
