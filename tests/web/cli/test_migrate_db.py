"""`huiyin migrate-db`: an office's records moved from SQLite to PostgreSQL, counted and hashed,
and the moved office answers the same questions (due cases, rates, supervision) as before."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from records import (
    Category,
    Database,
    Letter,
    LoginAttempt,
    PageEdit,
    Place,
    Reply,
    User,
    cases,
    database_exists,
    drop_database,
    intake,
    receptions,
    routing,
    settlements,
    stats,
    supervision,
    tasks,
    units,
    urgency,
)
from records.calendar import load_calendar
from records.models import ApiToken, CaseNote, PublicQuery, SavedFilter
from records.transfer import verify
from records.workflow import document_evidence
from tests.pg import pg_url
from tests.records import activity
from tests.records.databases import ON_POSTGRES, fresh_url, postgres_database
from web.cli.migrate import migrate_db
from web.services.instance import Instance, InstanceError

__all__ = ["pg_url"]  # the SQLite run's PostgreSQL server (tests/pg.py)

CAL = load_calendar()
TODAY = dt.date(2026, 1, 20)
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def _populate(db: Database) -> None:
    """A year of cases (activity.generate) and a row or more in every other table."""
    activity.generate(db, CAL, letters=240, cases_=160, seed=11)
    with db.session() as s:
        child = units.add_unit(s, "枣树营村第三村民组", level="group", actor="admin")
        parent = units.add_unit(s, "石桥镇枣树营村委会", level="village", actor="admin")
        child.parent_id = parent.id  # a parent with a higher id than its child
        lead = units.add_user(s, "wangjj", role="leader", display_name="王建军", unit=parent,
                              actor="admin")
        units.add_user(s, "former", role="clerk", actor="admin").active = False
        routing.set_route(s, township="石桥镇", category="", unit=parent, lead=lead,
                          actor="admin")
        s.add_all([Category(name="土地征收"), Category(name="旧分类", active=False),
                   Place(township="石桥镇"), Place(township="石桥镇", village="枣树营村"),
                   LoginAttempt(username="wangjj", remote_addr="10.0.0.7", success=True),
                   LoginAttempt(username="wangjj", remote_addr="10.0.0.7", success=False)])
        letter = intake.register_letter(
            s, sha256="f" * 64, source_name="扫描件.pdf", media_type="application/pdf",
            size_bytes=81234, received_on=dt.date(2025, 12, 28), actor="clerk1")
        page = intake.save_page(s, letter, number=1, width=1654, height=2339, source="ocr",
                                engine="rapidocr", lines=[
                                    {"text": "尊敬的县信访局领导：", "score": 0.9731,
                                     "box": [[10, 12], [400, 12], [400, 60], [10, 60]]},
                                    {"text": "联系电话13839452176。", "score": 0.5}])
        intake.finish_reading(s, letter)
        intake.propose_fields(letter, {"phones": ["13839452176"], "petitioner": "韩秋菊",
                                       "amounts": [875102.5], "summary": "征地补偿"})
        intake.attach_petitioner(s, letter, name="韩秋菊", id_number="41172219630412352X",
                                 phone="13839452176", township="石桥镇", actor="clerk1")
        s.add(PageEdit(page_id=page.id, line=1, before="联系电话13839452176。",
                       after="联系电话：13839452176。", by="clerk1"))
        case = cases.open_case(s, letter, actor="clerk1")
        cases.transition(s, case, "accept", dt.date(2025, 12, 29), actor="clerk1",
                         calendar=CAL, evidence=document_evidence("accept"))
        supervision.supervise(s, case, "escalation", "挂牌督办：月底前答复", actor="leader1",
                              due_on=dt.date(2026, 1, 31))
        supervision.instruct(s, case, leader="王建军", text="请石桥镇核实", actor="leader1",
                             given_on=dt.date(2025, 12, 30), actions=["核实补偿标准", "答复"])
        first = Reply(letter_id=letter.id, case_id=case.id, template="acknowledgement",
                      doc_number="清信受〔2025〕1号", data={"b": 1, "a": [1, 2]}, created_by="c1")
        second = Reply(letter_id=letter.id, case_id=case.id, template="acknowledgement",
                       doc_number="清信受〔2025〕2号", data={}, created_by="c1",
                       signed_at=dt.datetime(2025, 12, 30, 9, 15, 1, 250000))
        s.add_all([first, second])
        s.flush()
        first.superseded_by_id = second.id  # an older reply points at a newer one
        tasks.enqueue(s, "ingest", "ingest:1", {"letter_id": letter.id, "pages": [1]},
                      letter_id=letter.id, actor="clerk1")
        lead_id = s.scalars(select(User.id).where(User.username == "wangjj")).one()
        s.add_all([CaseNote(case_id=case.id, text="已到现场核实，约定下周三协调会", by="h1"),
                   ApiToken(user_id=lead_id, digest="d" * 64, session_token="t" * 16,
                            expires_at=dt.datetime(2026, 1, 1, 8, 0)),
                   PublicQuery(remote_addr="10.0.0.9", case_id=case.id),  # §21 ¶2's page
                   PublicQuery(remote_addr="10.0.0.9", case_id=None, limited=True)])
        # 领导接待日 with its visit, 重大紧急 (§25), and a settled matter (§33)
        visit = intake.register_letter(
            s, sha256="c" * 64, source_name="visit-1.txt", media_type="text/plain",
            size_bytes=120, received_on=dt.date(2025, 12, 29), actor="clerk1", channel="visit")
        day = receptions.add_reception(s, held_on=dt.date(2025, 12, 29),
                                       leader=s.get_one(User, lead_id), place="县信访局接待大厅",
                                       actor="clerk1", units=[child, parent])  # 联合接访
        s.add(SavedFilter(user_id=lead_id, list_key="register", name="石桥镇",
                          query="township=石桥镇"))
        receptions.receive(s, day, visit, actor="clerk1")
        urgency.report(s, case, reason="拟集体上访", recipient="本级党委和政府", how="电话",
                       told_at=dt.datetime(2025, 12, 29, 9, 30), actor="clerk1",
                       now=dt.datetime(2025, 12, 29, 10, 0))
        settled = cases.open_case(s, visit, actor="clerk1")
        cases.transition(s, settled, "accept", dt.date(2025, 12, 29), actor="clerk1",
                         calendar=CAL, evidence=document_evidence("accept"))
        settlements.settle(s, settled, kind="调解", parties=["韩秋菊", "石桥镇人民政府"],
                           terms="月底前付清", signed_on=dt.date(2025, 12, 30),
                           file_sha256="a" * 64, file_name="协议书.pdf",
                           media_type="application/pdf", size=100, actor="h1",
                           today=dt.date(2025, 12, 31))


def _answers(db: Database) -> dict[str, object]:
    """What the office asks of its records: due and overdue cases, rates, open supervision."""
    with db.session() as s:
        facts = stats.case_facts(s, *YEAR, CAL)
        return {
            "due": [(c.case_no, d.kind, d.due.isoformat())
                    for c, d in cases.due(s, CAL, TODAY, within_days=10)],
            "overdue": [c.case_no for c, _ in cases.due(s, CAL, TODAY, overdue_only=True)],
            "rates": {by or "all": {group: [(r.key, r.numerator, r.denominator) for r in rs]
                                    for group, rs in stats.grouped_rates(facts, by).items()}
                      for by in (None, "month", "township", "unit")},
            "supervision": [(i.kind, i.text, i.due_on) for i in supervision.open_items(s)],
            "units": [(u.name, u.level, u.parent_id) for u in units.list_units(s)],
            "petitioner_letters": [letter.reg_no for letter in s.scalars(
                select(Letter).where(Letter.petitioners.any(id_number="41172219630412352X")))],
        }


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Instance]:
    """A populated office on its embedded SQLite file (whatever the suite runs on)."""
    instance = Instance(tmp_path / "office", {"database_url": ""})
    instance.create()
    _populate(instance.db)
    yield instance
    instance.close()


@pytest.fixture
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty PostgreSQL database, not created yet (migrate-db creates it)."""
    if ON_POSTGRES:
        return fresh_url(tmp_path, "moved", create=False)
    return postgres_database(request.getfixturevalue("pg_url"), create=False)


def _migrate(source: str, target: str, *extra: str) -> Result:
    return CliRunner().invoke(migrate_db, ["--from", source, "--to", target, *extra])


@pytest.mark.slow
def test_an_office_moves_from_sqlite_to_postgresql(office: Instance, target_url: str) -> None:
    before = _answers(office.db)
    result = _migrate(office.database_url, target_url, "--json", "--batch", "50")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    counts = {t["table"]: t["target_rows"] for t in report["tables"]}
    assert set(counts) == {
        "api_token", "audit_event", "case", "case_note", "category", "counter", "hearing",
        "instruction", "letter", "letter_petitioner", "login_attempt", "page", "page_edit",
        "petitioner", "place", "reply", "route", "supervision", "task", "unit", "user",
        "reception_day", "reception_visit", "settlement", "urgent_report", "public_query",
        "reception_unit", "saved_filter"}
    assert all(counts[name] > 0 for name in counts), counts
    assert counts["letter"] == 242 and counts["case"] == 162
    for table in report["tables"]:
        assert table["source_rows"] == table["target_rows"]
        assert table["source_sha256"] == table["target_sha256"]
    assert "user_id_seq" in " ".join(report["sequences_reset"])

    moved = Instance(office.home, {"database_url": target_url})
    try:
        assert moved.db.dialect == "postgresql" and moved.db.is_current()
        assert _answers(moved.db) == before
        with moved.db.session() as s:  # sequences and counters carry on after the copied ids
            top = s.scalar(select(func.max(Letter.id)))
            letter = intake.register_letter(
                s, sha256="e" * 64, source_name="new.jpg", media_type="image/jpeg",
                size_bytes=1, received_on=dt.date(2025, 12, 31), actor="clerk1")
            assert letter.id == (top or 0) + 1
            assert letter.reg_no == "2025-000243"
            assert units.add_unit(s, "新单位", actor="admin").id > 0
            replies = s.scalars(select(Reply).order_by(Reply.id)).all()
            assert replies[0].superseded_by_id == replies[1].id
            assert s.scalars(select(User).where(User.username == "former")).one().active is False
            assert s.scalars(select(Category).where(~Category.active)).one().name == "旧分类"
    finally:
        moved.close()


@pytest.mark.slow
def test_a_target_that_is_not_empty_is_refused(office: Instance, target_url: str) -> None:
    assert _migrate(office.database_url, target_url).exit_code == 0
    again = _migrate(office.database_url, target_url)
    assert again.exit_code == 1
    assert "not empty" in again.output and "letter (242 rows)" in again.output


def test_the_hashes_see_a_changed_value(tmp_path: Path, target_url: str) -> None:
    source = Database(fresh_url(tmp_path / "a", "source"))
    source.upgrade()
    with source.session() as s:
        units.add_unit(s, "县住建局", actor="admin")
        units.add_unit(s, "县人社局", actor="admin")
    result = _migrate(source.url, target_url, "--json")
    assert result.exit_code == 0, result.output
    assert "Now set" not in result.output
    target = Database(target_url)
    with target.engine.begin() as connection:
        connection.execute(text("UPDATE unit SET level = 'township' WHERE id = 2"))
    checks = {c.table: c for c in verify(source, target)}
    assert not checks["unit"].ok and checks["unit"].source_rows == checks["unit"].target_rows
    assert all(c.ok for name, c in checks.items() if name != "unit")
    source.close()
    target.close()


@pytest.mark.parametrize(("source", "target", "message"), [
    ("sqlite:////nowhere/huiyin.db", "sqlite:////tmp/x.db", "no database at"),
    ("sqlite:////tmp/same.db", "sqlite:////tmp/same.db", "same database"),
    ("not a url", "sqlite:////tmp/x.db", "not a database URL"),
])
def test_usage_errors_say_what_is_wrong(source: str, target: str, message: str) -> None:
    result = _migrate(source, target)
    assert result.exit_code == 1
    assert message in result.output


def test_text_too_long_for_postgresql_is_named_before_copying(
        tmp_path: Path, target_url: str) -> None:
    source = Database(fresh_url(tmp_path / "a", "source"))
    if source.dialect != "sqlite":
        source.close()
        pytest.skip("only SQLite keeps text longer than its column allows")
    source.upgrade()
    with source.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO category (name, active) VALUES (:name, 1)"), {"name": "类" * 70})
    result = _migrate(source.url, target_url)
    source.close()
    assert result.exit_code == 1
    assert "category.name: 1 value(s) longer than 64 characters" in result.output


# ---- Many instances, one server: database_url with {instance}.

def test_instance_names_are_short_stable_and_safe(tmp_path: Path) -> None:
    from web.services.instance import instance_name

    name = instance_name(tmp_path / "清河县 Office-2026")
    assert name == instance_name(tmp_path / "清河县 Office-2026")  # stable
    stem, digest = name.rsplit("_", 1)
    assert stem == "office_2026" and len(digest) == 8
    assert instance_name(tmp_path / "a" / "instance") != instance_name(tmp_path / "instance")
    long = instance_name(tmp_path / ("x" * 200))
    assert len(f"huiyin_{long}") <= 63 and set(long) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
    assert instance_name(tmp_path / "信访").startswith("instance_")


def test_the_placeholder_gives_each_instance_its_database(tmp_path: Path) -> None:
    from web.services.instance import instance_name

    url = "postgresql+psycopg://huiyin@/huiyin_{instance}?host=/run/postgresql"
    one = Instance(tmp_path / "one", {"database_url": url})
    assert one.database_url == url.replace("{instance}", instance_name(tmp_path / "one"))
    assert Instance(tmp_path / "one", {"database_url": ""}).database_url.endswith("one/huiyin.db")


def test_init_creates_the_instances_database(tmp_path: Path, target_url: str) -> None:
    from web.cli import main

    template = str(make_url(target_url).set(database="huiyin_{instance}")
                   .render_as_string(hide_password=False))
    home = tmp_path / "county office"
    (home).mkdir()
    (home / "config.toml").write_text(f"database_url = {json.dumps(template)}\n")
    instance = Instance(home)
    assert not database_exists(instance.database_url)
    with pytest.raises(InstanceError, match="huiyin init"):
        instance.check_ready()
    result = CliRunner().invoke(main, ["--home", str(home), "init", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["database"] == instance.database_url
    assert database_exists(instance.database_url)
    instance.check_ready()
    instance.close()
    drop_database(instance.database_url)
