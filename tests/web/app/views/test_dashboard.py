"""The 工作台 through the real app and database: every number equals the list behind it, the
rates equal records.stats, the clocks equal records.cases.due, scope and permissions hold."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Case, Unit, cases, intake, stats
from records.workflow import document_evidence
from tests.records import activity
from tests.web.signin import HANDLER_UNIT, add_users, sign_in
from web.app import create_app
from web.services import dashboard
from web.services.instance import Instance
from web.services.replies import generate_reply, letters_without_reply

LINK = re.compile(r'<a href="(/dashboard/rows\?[^"]+)">(\d+)</a>')
TOTAL = re.compile(r'<span class="total">(\d+)</span>')


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of generated activity in this year (so the default period holds it), and users."""
    home = tmp_path_factory.mktemp("dashboard") / "instance"
    with Instance(home) as instance:
        instance.create()
        activity.generate(instance.db, instance.calendar, letters=400, cases_=240,
                          year=instance.today().year)
        with instance.db.session() as session:  # a responsible leader on some cases
            lead = session.scalars(select(Case).where(Case.id % 3 == 0)).all()
            from records import User
            leader = User(username="lead9", display_name="王建军", role="leader")
            session.add(leader)
            session.flush()
            for case in lead:
                case.lead_id = leader.id
            waiting = session.scalars(select(Case).where(Case.status == "registered")
                                      .order_by(Case.id)).all()
            for case, last in zip(waiting[:3], ("accept", "transfer", "assign"), strict=True):
                object_to(session, instance, case, last)
    add_users(home)
    return home


def object_to(session: Session, instance: Instance, case: Case, then: str) -> None:
    """Assigned, received and objected to by the unit (异议), then routed again 20 days after
    receipt; each step as if its document was signed."""
    for action, days in (("assign", 1), ("receive_assignment", 1), ("object", 2), (then, 20)):
        cases.transition(session, case, action, case.opened_on + dt.timedelta(days=days),
                         actor="clerk1", calendar=instance.calendar,
                         evidence=document_evidence(action))


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "instance"
    shutil.copytree(template, copy)
    return copy


@pytest.fixture
def app(home: Path) -> Flask:
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


def client(app: Flask, username: str) -> FlaskClient:
    return sign_in(app.test_client(), username)


def handler_units(home: Path) -> frozenset[int]:
    with Instance(home) as instance, instance.db.session() as session:
        unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        return frozenset({unit.id})


@pytest.mark.slow
def test_every_number_on_the_page_equals_the_list_behind_it(app: Flask) -> None:
    c = client(app, "clerk1")
    page = c.get("/dashboard/").get_data(as_text=True)
    links = LINK.findall(page)
    assert len(links) > 100  # work, breakdowns, rates, tables, charts' bars
    for href, number in links:
        listing = c.get(html.unescape(href))
        assert listing.status_code == 200, href
        text = listing.get_data(as_text=True)
        total = TOTAL.search(text)
        assert total and total.group(1) == number, href
        if int(number) and int(number) <= 100:  # one page: every row is there, each a link
            assert text.count('<tr') - 1 == int(number), href


def test_counts_equal_rows_for_every_cell(home: Path) -> None:
    with Instance(home) as instance:
        today = instance.today()
        period = dashboard.Period.year(today.year)
        figures = dashboard.summary(instance, None, today, period)
        for metric, figure in figures["work"].items():
            rows = dashboard.rows_behind(instance, metric, None, today)
            assert len(rows) == figure["count"] == dashboard.count(instance, metric, None, today)
            for by, field in (("by_unit", "unit"), ("by_lead", "lead")):
                assert sum(cell["count"] for cell in figure[by]) == figure["count"]
                for cell in figure[by]:
                    flt = dashboard.Filter(**{field: cell["id"]})  # type: ignore[arg-type]
                    found = dashboard.rows_behind(instance, metric, None, today, flt=flt)
                    assert len(found) == cell["count"]
                    assert {r[f"{field}_id"] for r in found} == {cell["id"]}
        for rate in figures["rates"]:
            for part in ("numerator", "denominator"):
                rows = dashboard.rows_behind(instance, "rate", None, today, period=period,
                                             key=rate["key"], part=part)
                assert len(rows) == rate[part], (rate["key"], part)


def test_rates_equal_records_stats(home: Path) -> None:
    """The SQL rates agree with records.stats over the whole period and every group."""
    with Instance(home) as instance:
        today = instance.today()
        period = dashboard.Period.year(today.year)
        figures = dashboard.summary(instance, None, today, period)
        with instance.db.session() as session:  # what is over by today
            facts = stats.case_facts(session, period.start, period.end, instance.calendar,
                                     today=min(period.end + dt.timedelta(days=1), today))

        def pairs(rates: list[dict]) -> dict[str, tuple[int, int]]:  # type: ignore[type-arg]
            return {r["key"]: (r["numerator"], r["denominator"]) for r in rates}

        assert pairs(figures["rates"]) == {
            r.key: (r.numerator, r.denominator) for r in stats.rates(facts)}
        for by in ("township", "unit", "month"):
            theirs = {name: {r.key: (r.numerator, r.denominator) for r in rates}
                      for name, rates in stats.grouped_rates(facts, by).items()}
            mine = {row["name"]: pairs(row["rates"]) for row in figures[f"by_{by}"]}
            assert mine == theirs, by
        assert figures["rates"][6]["denominator"] > 0  # on time: the data exercise it


def stats_pairs(instance: Instance, period: dashboard.Period) -> dict[str, tuple[int, int]]:
    today = min(period.end + dt.timedelta(days=1), instance.today())  # what is over by today
    with instance.db.session() as session:
        facts = stats.case_facts(session, period.start, period.end, instance.calendar,
                                 today=today)
    return {r.key: (r.numerator, r.denominator) for r in stats.rates(facts)}


def test_an_objection_after_the_first_reading_is_counted(home: Path) -> None:
    """The first routing day of a case objected to comes from the log, read incrementally."""
    with Instance(home) as instance:
        today = instance.today()
        period = dashboard.Period.year(today.year)

        def mine() -> dict[str, tuple[int, int]]:
            return {r["key"]: (r["numerator"], r["denominator"])
                    for r in dashboard.summary(instance, None, today, period)["rates"]}

        assert mine() == stats_pairs(instance, period)
        with instance.db.session() as session:
            for case in session.scalars(select(Case).where(Case.status == "registered")
                                        .order_by(Case.id).limit(3)):
                object_to(session, instance, case, "accept")
        assert mine() == stats_pairs(instance, period)


def test_clocks_equal_records_cases_due(home: Path) -> None:
    with Instance(home) as instance:
        for today in (instance.today(), dt.date(instance.today().year, 3, 2),
                      dt.date(instance.today().year, 10, 8)):  # after a long holiday
            with instance.db.session() as session:
                running = cases.due(session, instance.calendar, today)
                overdue = {c.id for c, d in running if d.overdue(today)}
                soon_until = instance.calendar.add_working_days(today, 3)
                soon = {c.id for c, d in running if not d.overdue(today) and d.due <= soon_until}
            assert {r["case_id"] for r in dashboard.rows_behind(
                instance, "overdue", None, today)} == overdue
            assert {r["case_id"] for r in dashboard.rows_behind(
                instance, "due_soon", None, today)} == soon


def card(page: str, metric: str) -> int:
    found = re.search(rf'class="card {metric}">.*?class="big">(?:<a [^>]+>)?(\d+)', page, re.S)
    assert found, metric
    return int(found.group(1))


def test_a_reply_lowers_letters_without_reply_by_one(app: Flask, home: Path) -> None:
    c = client(app, "clerk1")
    before = card(c.get("/dashboard/").get_data(as_text=True), "without_reply")
    with Instance(home) as instance:
        assert before == len(letters_without_reply(instance))
        letter_id = letters_without_reply(instance)[0]["letter_id"]
        with instance.db.session() as session:
            intake.attach_petitioner(session, intake.get_letter(session, letter_id),
                                     name="韩秋菊", actor="clerk1")
        generate_reply(instance, letter_id, "acknowledgement", out_dir=None, actor="clerk1",
                       pdf=False)
    after = card(c.get("/dashboard/").get_data(as_text=True), "without_reply")
    assert after == before - 1


def test_looking_keeps_the_figures_and_a_change_renews_them(app: Flask, home: Path) -> None:
    """Reads, searches and sign-ins are audited but change no figure: the page kept is reused."""
    c = client(app, "clerk1")
    with Instance(home) as instance:
        today = instance.today()
        period = dashboard.Period.year(today.year)
        kept = dashboard.state(instance, None, today, period)
        letter_id = letters_without_reply(instance)[0]["letter_id"]
        assert c.get(f"/letters/{letter_id}").status_code == 200
        assert c.get("/search?q=村").status_code == 200
        client(app, "leader1")
        assert dashboard.state(instance, None, today, period) == kept
        with instance.db.session() as session:
            intake.attach_petitioner(session, intake.get_letter(session, letter_id),
                                     name="韩秋菊", actor="clerk1")
        assert dashboard.state(instance, None, today, period) != kept


def test_a_handler_counts_only_its_units_cases(app: Flask, home: Path) -> None:
    units = handler_units(home)
    handler_page = client(app, "handler1").get("/dashboard/").get_data(as_text=True)
    clerk_page = client(app, "clerk1").get("/dashboard/").get_data(as_text=True)
    with Instance(home) as instance:
        today = instance.today()
        with instance.db.session() as session:
            mine = cases.due(session, instance.calendar, today, overdue_only=True,
                             unit_id=next(iter(units)))
        assert card(handler_page, "overdue") == len(mine) > 0
        assert card(clerk_page, "overdue") > len(mine)
        period = dashboard.Period(dt.date(today.year, 1, 1), today)
        scoped = dashboard.summary(instance, units, today, period)
        every = dashboard.summary(instance, None, today, period)
        assert 0 < scoped["cases"] < every["cases"]
        assert {u["name"] for u in scoped["by_unit"]} == {HANDLER_UNIT}


@pytest.mark.slow
def test_a_handlers_lists_hold_only_its_units_cases(app: Flask) -> None:
    c = client(app, "handler1")
    for href, _ in LINK.findall(c.get("/dashboard/").get_data(as_text=True)):
        text = c.get(html.unescape(href)).get_data(as_text=True)
        owners = set(re.findall(r"<td>(县[^<]*|石桥镇人民政府|枣树营村委会)</td>", text))
        assert owners <= {HANDLER_UNIT}, href


def test_admin_sees_numbers_but_no_lists(app: Flask) -> None:
    c = client(app, "admin1")
    page = c.get("/dashboard/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/dashboard/rows" not in text and "/letters/" not in text
    assert card(text, "overdue") > 0
    assert "按期办结率" in text
    assert c.get("/dashboard/rows?metric=overdue").status_code == 403
    assert c.get("/dashboard/rows?metric=without_reply").status_code == 403


def test_charts_are_well_formed_svg(app: Flask) -> None:
    text = client(app, "leader1").get("/dashboard/").get_data(as_text=True)
    assert "style=" not in text  # the CSP allows no style attributes
    charts = re.findall(r"<svg .*?</svg>", text, re.S)
    assert len(charts) == 2
    ns = {"svg": "http://www.w3.org/2000/svg"}
    bars = ET.fromstring(charts[0])
    assert len(bars.findall(".//svg:rect", ns)) == 12
    lines = ET.fromstring(charts[1])
    assert lines.findall(".//svg:circle", ns)
    assert lines.findall(".//svg:a", ns)  # each point opens its month's list


def test_strangers_are_sent_to_sign_in(app: Flask) -> None:
    c = app.test_client()
    for path in ("/dashboard/", "/dashboard/rows?metric=overdue"):
        response = c.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("query", ["metric=nothing", "metric=rate&key=nothing",
                                   "metric=rate&key=on_time&part=half", "metric=overdue&unit=x",
                                   "metric=received&month=2026-13"])
def test_a_bad_list_address_is_not_found(app: Flask, query: str) -> None:
    assert client(app, "clerk1").get(f"/dashboard/rows?{query}").status_code == 404


def test_the_period_selector(app: Flask) -> None:
    c = client(app, "clerk1")
    year = dt.date.today().year
    whole = c.get(f"/dashboard/?year={year}").get_data(as_text=True)
    spring = c.get(f"/dashboard/?from={year}-03&to={year}-01").get_data(as_text=True)
    assert f'value="{year}-01"' in spring and f'value="{year}-03"' in spring  # put in order
    count = re.compile(r"收到的事项 (?:<a [^>]+>)?(\d+)")
    assert int(count.findall(spring)[0]) < int(count.findall(whole)[0])
    assert c.get("/dashboard/?from=garbage&to=<script>").status_code == 200
