"""`huiyin bench web`, the database side: a PostgreSQL instance, the year's rates, EXPLAIN plans.

* :func:`postgres_config` — config.toml of a bench instance whose records and search index
  live in one database of a throwaway server (:mod:`web.bench.pgserver`).
* :func:`rates_year` — what ``huiyin stats --from <today-365d> --to <today>`` does
  (``records.stats.case_facts`` + ``grouped_rates``), timed in-process, a few runs.
* :func:`explain` — the SQL one letter page request and one ``case_facts`` call send, captured
  with an SQLAlchemy event listener, then run again as EXPLAIN (ANALYZE, BUFFERS) on the server
  with the same parameters: the plans the docs show and argue the 1M figures from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

RATES_RUNS = 3
RATES_DAYS = 365
PLAN_LINE_CHARS = 300  # an IN list of thousands of ids is printed whole in a plan line
STATEMENT_CHARS = 2000
# A run of bound parameters (an expanded IN list): %(id_1_1)s::INTEGER, %(id_1_2)s::INTEGER, ...
_PARAMETER_RUN = re.compile(r"(?:%\(\w+\)s(?:::\w+)?,\s*){3,}%\(\w+\)s(?:::\w+)?")
_QUERY = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_TIME = re.compile(r"^(Planning|Execution) Time: ([\d.]+) ms")


def postgres_config(sqlalchemy_url: str) -> str:
    """config.toml for an instance whose records and search index are in that database."""
    return f'database_url = {json.dumps(sqlalchemy_url)}\nsearch_engine = "postgres"\n'


def analyze(home: Path) -> float:
    """VACUUM ANALYZE after the bulk load, as autovacuum would later: planner statistics."""
    from web.services.instance import Instance

    with Instance(home) as instance:
        engine = instance.db.engine.execution_options(isolation_level="AUTOCOMMIT")
        started = time.perf_counter()
        with engine.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return round(time.perf_counter() - started, 1)


def year(today: dt.date) -> tuple[dt.date, dt.date]:
    """The period of ``huiyin stats --from <today-365d> --to <today>``."""
    return today - dt.timedelta(days=RATES_DAYS), today


def rates_year(home: Path, runs: int = RATES_RUNS) -> dict[str, Any]:
    """Seconds to compute the office's rates over the last year, as `huiyin stats` does."""
    from records import stats
    from web.services.instance import Instance

    times: list[float] = []
    cases = 0
    with Instance(home) as instance:
        first, last = year(instance.today())
        period = {"from": first.isoformat(), "to": last.isoformat()}
        for _ in range(runs):
            started = time.perf_counter()
            try:
                with instance.db.session() as session:
                    facts = stats.case_facts(session, first, last, instance.calendar)
                stats.grouped_rates(facts, None)
            except SQLAlchemyError as e:  # the load's figures are still worth reporting
                return {"rates_year_error": f"{type(e).__name__}: {str(e)[:500]}",
                        "rates_year_period": period}
            times.append(time.perf_counter() - started)
            cases = len(facts)
    return {"rates_year_seconds": {"median": round(statistics.median(times), 3),
                                   "max": round(max(times), 3),
                                   "runs": [round(t, 3) for t in times]},
            "rates_year_cases": cases, "rates_year_period": period}


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements (and their DBAPI parameters) the engine sends inside the block."""
    seen: list[tuple[str, Any]] = []

    def listen(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if not executemany and _QUERY.match(statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def plans(engine: Engine, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement with its own parameters, rolled back."""
    out = []
    raw = engine.raw_connection()
    try:
        for statement, parameters in statements:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [str(row[0]) for row in cursor.fetchall()]
            cursor.close()
            raw.rollback()
            timing = {m.group(1).lower(): float(m.group(2))
                      for m in map(_TIME.match, lines) if m}
            out.append({
                "statement": short_statement(statement),
                "parameters": len(parameters or ()),
                "planning_ms": timing.get("planning"), "execution_ms": timing.get("execution"),
                "plan": [line if len(line) <= PLAN_LINE_CHARS
                         else line[:PLAN_LINE_CHARS] + f"… ({len(line)} characters)"
                         for line in lines]})
    finally:
        raw.close()
    return out


def short_statement(statement: str) -> str:
    """The SQL on one line, a long run of parameters (an IN list) shown as its count."""
    text = " ".join(statement.split())
    text = _PARAMETER_RUN.sub(lambda m: f"<{m.group(0).count('%(')} parameters>", text)
    return text if len(text) <= STATEMENT_CHARS else text[:STATEMENT_CHARS] + "…"


def explain(home: Path, username: str, password: str) -> dict[str, Any]:
    """Plans of the SQL of one letter page (a letter in a case) and of the year's case_facts."""
    from records import Letter, stats
    from web.app import create_app

    app = create_app({"HUIYIN_HOME": str(home)})
    instance = app.extensions["huiyin"]
    if instance.db.dialect != "postgresql":
        raise ValueError("EXPLAIN ANALYZE here is PostgreSQL's: run with --postgres")
    engine = instance.db.engine
    try:
        with instance.db.session() as session:
            letter_id = session.scalar(select(Letter.id).where(Letter.case_id.is_not(None))
                                       .order_by(Letter.id.desc()).limit(1))
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        signed = client.post("/login", data={"username": username, "password": password,
                                             "csrf_token": token.group(1) if token else "",
                                             "next": ""})
        if signed.status_code != 302:
            raise RuntimeError(f"explain: sign-in refused ({signed.status_code})")
        path = f"/letters/{letter_id}"
        with captured(engine) as letter_sql:
            page = client.get(path)
        if page.status_code != 200:
            raise RuntimeError(f"explain: {path} answered {page.status_code}")
        first, last = year(instance.today())
        with captured(engine) as facts_sql, instance.db.session() as session:
            facts = stats.case_facts(session, first, last, instance.calendar)
        return {
            "letter_page": {"path": path, "statements": plans(engine, letter_sql)},
            "case_facts": {"from": first.isoformat(), "to": last.isoformat(),
                           "cases": len(facts), "statements": plans(engine, facts_sql)},
        }
    finally:
        instance.close()
