"""The office's rates: computed from records and audit events, checked by independent SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from records import Database, stats
from records.calendar import OutsideCalendar, load_calendar
from tests.records import activity
from tests.records.databases import fresh_url

CAL = load_calendar()
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(fresh_url(tmp_path_factory.mktemp("stats"), "stats"))
    db.upgrade()
    activity.generate(db, CAL, letters=5000, cases_=3000)
    _classify(db)
    yield db
    db.close()


# Kinds by case id (id % 7): §34 runs for item (六) and the unclassified only (records.kinds).
KINDS_BY_ID = {1: ("建议意见", None), 2: ("检举控告", None), 3: ("申诉求决", 5),
               4: ("申诉求决", 2), 5: ("申诉求决", 6)}


def _classify(db: Database) -> None:
    """Give a share of the generated cases each kind (the rest stay unclassified)."""
    with db.engine.begin() as connection:
        for rest, (kind, item) in KINDS_BY_ID.items():
            connection.execute(text('UPDATE "case" SET kind = :kind, sub_kind = :item '
                                    "WHERE id % 7 = :rest"),
                               {"kind": kind, "item": item, "rest": rest})


def _roll(day: dt.date) -> dt.date:
    """民法典 §203: a last day that is a day off moves to the next working day."""
    while not CAL.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def _independent(db: Database, period: tuple[dt.date, dt.date]) -> dict[str, tuple[int, int]]:
    """The same rates, computed straight from the tables (no records.stats or workflow code):
    one SQL query of each case's columns and its letters' facts, then the article's counting."""
    pg = db.dialect == "postgresql"

    def json_text(column: str, key: str) -> str:
        return f"({column} ->> '{key}')" if pg else f"json_extract({column}, '$.{key}')"

    def flagged(flag: str) -> str:
        each = "json_array_elements_text(c.flags) AS f(value)" if pg else "json_each(c.flags)"
        return f"EXISTS (SELECT 1 FROM {each} WHERE value = '{flag}')"

    rank = ("CASE {0} WHEN 'group' THEN 0 WHEN 'village' THEN 1 WHEN 'township' THEN 2 "
            "WHEN 'county' THEN 3 WHEN 'city' THEN 4 WHEN 'province' THEN 5 "
            "WHEN 'national' THEN 6 ELSE 3 END")
    answered = "coalesce(c.replied_delivered_on, c.replied_on)"
    query = f"""
        SELECT c.kind, c.sub_kind, c.assigned_on,
               c.status, c.opened_on, c.accepted_on, c.extension_days, c.replied_on,
               c.replied_delivered_on, c.review_requested_on, c.recheck_requested_on,
               c.waived_on, c.satisfaction, u.level,
               {flagged('重复')} AS repeat_flag,
               EXISTS (SELECT 1 FROM letter l WHERE l.case_id = c.id
                       AND {answered} IS NOT NULL AND l.received_on > {answered})
               OR (SELECT count(DISTINCT l.addressed_level) FROM letter l
                   WHERE l.case_id = c.id) > 1 AS came_back,
               EXISTS (SELECT 1 FROM letter l WHERE l.case_id = c.id AND l.channel = 'visit'
                       AND {rank.format('l.addressed_level')}
                           > {rank.format("coalesce(u.level, 'county')")} + 1) AS bypass,
               EXISTS (SELECT 1 FROM letter l WHERE l.case_id = c.id AND l.channel = 'visit'
                       AND l.people >= 5) AS collective,
               (SELECT min({json_text('a.detail', 'on')}) FROM audit_event a
                WHERE a.entity = 'case' AND a.entity_id = c.id AND a.action = 'transition'
                AND {json_text('a.detail', 'step')}
                    IN ('accept', 'assign', 'transfer', 'not_accept')) AS routed,
               (SELECT count(*) FROM letter l WHERE l.case_id = c.id) > 1 AS followed_up,
               EXISTS (SELECT 1 FROM letter l WHERE l.case_id = c.id
                       AND l.not_accepted_under IS NOT NULL) AS not_again,
               (SELECT s.signed_on FROM settlement s WHERE s.case_id = c.id) AS settled_on
        FROM "case" c LEFT JOIN unit u ON u.id = c.unit_id"""

    def day(value: str | dt.date | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    counts = {key: [0, 0] for key in ("first_time_resolution", "settled", "repeat", "bypass",
                                      "collective", "timely_acceptance", "on_time",
                                      "satisfaction", "settled_locally",
                                      "not_accepted_again")}

    def tally(key: str, counted: bool, succeeded: bool) -> None:
        counts[key][1] += counted
        counts[key][0] += counted and succeeded

    start, end = period
    today = end + dt.timedelta(days=1)
    replied = {"replied", "review_requested", "review_replied", "recheck_requested",
               "recheck_replied", "closed"}
    with db.engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    for (kind, item, assigned, status, opened, accepted, ext, replied_on, delivered, review,
         recheck, waived, satisfaction, level, repeat_flag, came_back, bypass, collective,
         routed, followed_up, not_again, settled_on) in rows:
        opened, accepted, replied_on = day(opened), day(accepted), day(replied_on)
        concluded = replied_on if replied_on is not None else day(settled_on)  # §33 ends it too
        delivered, routed = day(delivered), day(routed)
        assert opened is not None
        # §34 for item (六) and the unclassified; the office's 60 days from the 交办 for
        # 建议意见, 检举控告 and item (五); none for items (一)-(四) (another procedure)
        statutory = kind is None or (kind == "申诉求决" and item == 6)
        elsewhere = kind == "申诉求决" and item in (1, 2, 3, 4)
        if accepted is not None and not elsewhere:  # by the deadline's day
            start_on = accepted if statutory else (day(assigned) or accepted)
            due = _roll(start_on + dt.timedelta(days=60 + (ext if statutory else 0)))
            tally("on_time", start <= due <= end and due < today,
                  concluded is not None and concluded <= due)
        if not start <= opened <= end:
            continue
        back = bool(came_back)
        tally("first_time_resolution", accepted is not None and not back and not repeat_flag,
              concluded is not None)
        closed_window = (review is not None or waived is not None or (
            delivered is not None and _roll(delivered + dt.timedelta(days=30)) < today))
        tally("settled", status in replied and closed_window, review is None and not back)
        tally("repeat", True, back or bool(repeat_flag))
        tally("bypass", True, bool(bypass))
        tally("collective", True, bool(collective))
        route_due = _roll(opened + dt.timedelta(days=15))
        tally("timely_acceptance",
              routed is not None or (status == "registered" and route_due < today),
              routed is not None and routed <= route_due)
        tally("satisfaction", satisfaction is not None, satisfaction in ("满意", "基本满意"))
        tally("settled_locally", status in replied,
              review is None and recheck is None and level in ("township", "village", "group"))
        tally("not_accepted_again", bool(followed_up), bool(not_again))
    return {key: (n, d) for key, (n, d) in counts.items()}


@pytest.mark.slow
@pytest.mark.parametrize("period", [YEAR, (dt.date(2025, 4, 1), dt.date(2025, 6, 30))])
def test_every_rate_matches_an_independent_computation(
    year: Database, period: tuple[dt.date, dt.date]
) -> None:
    with year.session() as session:
        facts = stats.case_facts(session, *period, CAL)
    assert len(facts) == 3000 if period == YEAR else 0 < len(facts) < 3000
    computed = {r.key: (r.numerator, r.denominator) for r in stats.rates(facts)}
    assert computed == _independent(year, period)
    assert all(0 < d for _, d in computed.values())  # every rate has cases behind it
    assert all(0 < n < d for n, d in computed.values())  # and is neither 0 nor 100%


@pytest.mark.slow
def test_the_generated_year_holds_every_kind_of_matter(year: Database) -> None:
    """Overdue, transferred, withdrawn, repeat and anonymous matters, visits above the level and
    of five or more, each present: the rates are compared where they can differ."""
    pg = year.dialect == "postgresql"
    told = "(steps -> 'accept' ->> 'told')" if pg else "json_extract(steps, '$.accept.told')"

    def count(where: str) -> int:
        with year.engine.connect() as connection:
            return int(connection.execute(text(f'SELECT count(*) FROM "case" WHERE {where}'))
                       .scalar() or 0)

    assert count("status = 'transferred'") and count("status = 'withdrawn'")
    assert count(f"{told} = '信访人匿名'")
    assert count("replied_delivered_on IS NOT NULL AND EXISTS (SELECT 1 FROM letter l WHERE "
                 'l.case_id = "case".id AND l.received_on > replied_delivered_on)')
    overdue = _independent(year, YEAR)["on_time"]
    assert 0 < overdue[0] < overdue[1]
    with year.session() as session:
        facts = stats.case_facts(session, *YEAR, CAL)
    assert any(f.bypass for f in facts) and any(f.collective for f in facts)


@pytest.mark.slow
def test_groups_add_up_to_the_whole(year: Database) -> None:
    with year.session() as session:
        facts = stats.case_facts(session, *YEAR, CAL)
    whole = {r.key: r for r in stats.grouped_rates(facts, None)["全部"]}
    for by in ("month", "township", "unit"):
        groups = stats.grouped_rates(facts, by)
        assert len(groups) == {"month": 12, "township": 5, "unit": 5}[by]
        for key, rate in whole.items():
            parts = [next(r for r in rs if r.key == key) for rs in groups.values()]
            assert sum(p.numerator for p in parts) == rate.numerator
            assert sum(p.denominator for p in parts) == rate.denominator


def test_every_rate_states_its_definition() -> None:
    names = [r.name for r in stats.rates([])]
    assert names == ["初信初访办结率", "息诉罢访率", "重复来信来访率", "越级上访率", "集体上访率",
                     "及时受理率", "按期办结率", "满意率", "四个不出率", "再次来信不予受理率"]
    assert all(r.definition and r.value is None for r in stats.rates([]))


def test_no_statement_carries_a_list_of_the_cases(year: Database) -> None:
    """A year's cases are named by subqueries: a prefecture's year (~143,000 cases at a million
    letters) would pass PostgreSQL's 65,535 parameters in one statement."""
    from sqlalchemy import event

    most: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        most.append(len(parameters) if isinstance(parameters, (tuple, list, dict)) else 0)

    event.listen(year.engine, "before_cursor_execute", count)
    try:
        with year.session() as session:
            facts = stats.case_facts(session, *YEAR, CAL)
    finally:
        event.remove(year.engine, "before_cursor_execute", count)
    assert len(facts) == 3000 and most and max(most) < 20, most


def test_a_year_is_counted_while_its_open_matters_fall_due_in_a_year_not_yet_announced(
        db: Database) -> None:
    """In December the year's rates are due, but a matter accepted this month falls due in a
    year whose 放假安排 nobody has entered yet: its last day is not known, yet it is surely
    after the period, so the year is counted (before, the whole report was refused)."""
    from records import cases, intake

    last_covered = max(c["year"] for c in CAL.coverage())
    accepted = dt.date(last_covered, 12, 1)
    with db.session() as session:
        letter = intake.register_letter(session, sha256="c" * 64, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=accepted, actor="clerk1")
        case = cases.open_case(session, letter, actor="clerk1")
        case.status, case.accepted_on = "accepted", accepted
    first, end = dt.date(last_covered, 1, 1), dt.date(last_covered, 12, 7)
    with db.session() as session:
        [fact] = stats.case_facts(session, first, end, CAL, today=end)
        assert fact.handling_due is not None and fact.handling_due.year == last_covered + 1
        assert not fact.due_in_period
        on_time = {r.key: r for r in stats.rates([fact])}["on_time"]
        assert on_time.denominator == 0
    with db.session() as session, pytest.raises(OutsideCalendar):  # a period reaching into it
        stats.case_facts(session, first, dt.date(last_covered + 1, 3, 31), CAL,
                         today=dt.date(last_covered + 1, 3, 31))
