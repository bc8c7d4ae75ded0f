"""The office's rates: computed from records and audit events, checked by independent SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from records import Database, stats
from records.calendar import load_calendar
from records.workflow import next_working_day
from tests.records import activity
from tests.records.databases import fresh_url

CAL = load_calendar()
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(fresh_url(tmp_path_factory.mktemp("stats"), "stats"))
    db.upgrade()
    activity.generate(db, CAL, letters=5000, cases_=3000)
    yield db
    db.close()


def _sql(db: Database, query: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(query)).scalar() or 0)


def _independent(db: Database) -> dict[str, tuple[int, int]]:
    """The same rates, computed straight from the tables (no records.stats code)."""
    pg = db.dialect == "postgresql"

    def json_text(column: str, key: str) -> str:
        return f"({column} ->> '{key}')" if pg else f"json_extract({column}, '$.{key}')"

    def days(later: str, earlier: str) -> str:
        return (f"(({later})::date - ({earlier})::date)" if pg
                else f"(julianday({later}) - julianday({earlier}))")

    replied = ("'replied','review_requested','review_replied','recheck_requested',"
               "'recheck_replied','closed'")
    letters = 'SELECT count(*) FROM letter l WHERE l.case_id = c.id'
    after = 'SELECT count(*) FROM letter l WHERE l.case_id = c.id AND l.received_on > c.replied_on'
    routed = (f"SELECT min({json_text('a.detail', 'on')}) FROM audit_event a WHERE a.entity = "
              "'case' AND a.entity_id = c.id AND a.action = 'transition' AND "
              f"{json_text('a.detail', 'step')} IN ('accept','assign','transfer','not_accept')")
    count = 'SELECT count(*) FROM "case" c WHERE '

    def flagged(flag: str) -> str:
        each = "json_array_elements_text(c.flags) AS f(value)" if pg else "json_each(c.flags)"
        return f"EXISTS (SELECT 1 FROM {each} WHERE value = '{flag}')"

    def day(value: str | dt.date) -> dt.date:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    with db.engine.connect() as connection:
        on_time = total_replied = 0
        # The days of the hearings held on a case (both ends counted) pause its handling clock.
        heard = (f"SELECT coalesce(sum({days('h.end_on', 'h.start_on')} + 1), 0) "
                 "FROM hearing h WHERE h.case_id = c.id AND h.kind = 'hearing'")
        for accepted, ext, paused, replied_on in connection.execute(text(
                f'SELECT accepted_on, extension_days, ({heard}), replied_on FROM "case" c '
                "WHERE replied_on IS NOT NULL AND accepted_on IS NOT NULL")):
            due = day(accepted) + dt.timedelta(days=60 + ext + int(paused))
            total_replied += 1
            on_time += day(replied_on) <= next_working_day(due, CAL)
    return {
        "first_time_resolution": (
            _sql(db, count + f"NOT {flagged('重复')} AND status IN ({replied})"),
            _sql(db, count + f"NOT {flagged('重复')}")),
        "settled": (
            _sql(db, count + f"status IN ({replied}) AND review_requested_on IS NULL "
                 f"AND ({after}) = 0"),
            _sql(db, count + f"status IN ({replied})")),
        "repeat": (_sql(db, count + f"{flagged('重复')} OR ({letters}) > 1"),
                   _sql(db, count + "TRUE")),
        "bypass": (_sql(db, count + flagged("越级")), _sql(db, count + "TRUE")),
        "collective": (_sql(db, count + flagged("集体")), _sql(db, count + "TRUE")),
        "timely_acceptance": (
            _sql(db, count + f"{days(f'({routed})', 'opened_on')} <= 15"),
            _sql(db, count + f"({routed}) IS NOT NULL")),
        "on_time": (on_time, total_replied),
        "satisfaction": (_sql(db, count + "satisfaction IN ('满意','基本满意')"),
                         _sql(db, count + "satisfaction IS NOT NULL")),
        "settled_locally": (
            _sql(db, count + f"status IN ({replied}) AND review_requested_on IS NULL AND "
                 "recheck_requested_on IS NULL AND (SELECT level FROM unit u WHERE u.id = "
                 "c.unit_id) IN ('township','village','group')"),
            _sql(db, count + f"status IN ({replied})")),
    }


@pytest.mark.slow
def test_every_rate_matches_an_independent_computation(year: Database) -> None:
    with year.session() as session:
        facts = stats.case_facts(session, *YEAR, CAL)
    assert len(facts) == 3000
    computed = {r.key: (r.numerator, r.denominator) for r in stats.rates(facts)}
    assert computed == _independent(year)
    assert all(0 < d for _, d in computed.values())  # every rate has cases behind it
    assert all(0 < n < d for n, d in computed.values())  # and is neither 0 nor 100%


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
                     "及时受理率", "按期办结率", "满意率", "四个不出率"]
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
