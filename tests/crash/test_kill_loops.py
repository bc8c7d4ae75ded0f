"""SIGKILL in a loop at random moments of ingest, reindex, reply and migration.

Each operation is killed again and again, half the time after a random delay and half the time
the instant a state it passes through appears (a page saved, a checkpoint written, a file
rendered, the migration holding the database's write lock). After every kill `huiyin check`
must find nothing wrong except what that operation's rerun repairs, and after the loop one
more run completes the work and the instance is consistent. The kills survived are written to
test-artifacts/crash-kills.json. `make soak` (HUIYIN_SOAK=1) runs 13 kills per operation.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tests.crash.killing import (
    check,
    huiyin,
    query,
    reader,
    record_kills,
    run_killed,
    seeded_office,
)
from tests.soak import budget
from tests.web.conftest import LETTERS, draw

pytestmark = [pytest.mark.slow, pytest.mark.soak]

KILLS = int(budget(quick=2, soak=13))  # per operation: 8 in `make test`, 52 in `make soak`
OFFICE = int(budget(quick=300, soak=1200))  # in the seeded office (reindex, reply, migration)
SEED = int(os.environ.get("HUIYIN_CRASH_SEED") or time.time_ns() % 1_000_000)
OLD_REVISION = "0003"  # before the case clocks (0005) rebuild the referenced "case" table


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded office of indexed letters with cases, built once and copied by each test."""
    home = tmp_path_factory.mktemp("crash") / "office"
    seeded_office(home, OFFICE)
    assert check(home)["clean"]
    return home


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)


def kill_loop(operation: str, home: Path, args: list[str], rng: random.Random, *,
              delays: tuple[float, float], triggers: Callable[[], Callable[[], bool]],
              allowed: set[str], before: Callable[[], None] | None = None) -> tuple[int, int]:
    """Kill `huiyin ARGS` until KILLS kills found it running; check the instance after each."""
    kills = runs = 0
    log = home.parent / f"{operation}-killed.log"
    while kills < KILLS:
        assert runs < KILLS * 5, f"{operation}: only {kills} of {runs} runs were caught running"
        if before:
            before()
        runs += 1
        if runs % 2:
            killed = run_killed(home, args, delay=rng.uniform(*delays), log=log)
        else:
            killed = run_killed(home, args, trigger=triggers(), log=log)
        report = check(home)
        assert set(report["problems"]) <= allowed, (
            f"{operation} killed (seed {SEED}, run {runs}): {report}")
        kills += killed
    return kills, runs


# -- ingest ---------------------------------------------------------------------------------


def _ingest_progress(home: Path) -> int:
    """Steps an ingest has committed: letters registered, pages saved, letters indexed."""
    rows = query(home, "SELECT (SELECT count(*) FROM letter) + (SELECT count(*) FROM page)"
                       " + (SELECT count(*) FROM letter WHERE ingest_state = 'indexed')")
    return int(rows[0][0]) if rows else 0


def test_ingest_killed_in_a_loop(tmp_path: Path, rng: random.Random) -> None:
    home, folder = tmp_path / "instance", tmp_path / "scans"
    folder.mkdir()
    assert huiyin(home, "init").returncode == 0
    drawn = {"n": 0}

    def more_scans() -> None:
        """Keep work waiting: two new scans (one a 2-page PDF) whenever all are indexed."""
        done = query(home, "SELECT count(*) FROM letter WHERE ingest_state = 'indexed'")
        if drawn["n"] and done and done[0][0] < drawn["n"]:
            return
        from ocr import synthetic

        name, phone, place, matter = LETTERS[drawn["n"] % len(LETTERS)]
        draw(folder, name, phone, place, matter, fmt=rng.choice(("png", "jpg", "tiff")),
             seed=1000 + drawn["n"])
        pages = [synthetic.render_scan([f"第{k}页：尊敬的领导，", f"编号{drawn['n']}-{k}"],
                                       seed=2000 + 10 * drawn["n"] + k) for k in (1, 2)]
        synthetic.save_pdf(pages, folder / f"two-pages-{drawn['n']}.pdf")
        drawn["n"] += 2

    def next_step() -> Callable[[], bool]:
        start = _ingest_progress(home)
        return lambda: _ingest_progress(home) > start

    kills, runs = kill_loop("ingest", home, ["ingest", str(folder)], rng, delays=(0.8, 4.0),
                            triggers=next_step, before=more_scans,
                            allowed={"unfinished_letters", "not_indexed"})
    final = huiyin(home, "ingest", str(folder), "--json")
    assert final.returncode == 0, final.stderr
    report = check(home)
    assert report["ok"] and report["letters"] == drawn["n"], report
    assert query(home, "SELECT letter_id, number FROM page GROUP BY 1, 2 HAVING count(*) > 1") \
        == []
    two_page = query(home, "SELECT page_count FROM letter WHERE source_name LIKE 'two-pages%'")
    assert two_page and all(count == 2 for (count,) in two_page)
    record_kills("ingest", kills, runs, letters=drawn["n"], seed=SEED)


# -- reindex --------------------------------------------------------------------------------


def test_reindex_killed_in_a_loop(office: Path, tmp_path: Path, rng: random.Random) -> None:
    home = tmp_path / "office"
    shutil.copytree(office, home)
    checkpoint = home / "index" / "reindex-checkpoint.json"

    def next_batch() -> Callable[[], bool]:
        seen = checkpoint.read_bytes() if checkpoint.exists() else b""
        # the instant a batch is committed (a new checkpoint), or a rebuild started afresh
        return lambda: checkpoint.exists() and checkpoint.read_bytes() != seen

    kills, runs = kill_loop("reindex", home, ["reindex"], rng,
                            delays=(0.6, budget(quick=1.8, soak=3.5)),
                            triggers=next_batch, allowed={"reindex_pending", "not_indexed"})
    final = huiyin(home, "reindex", "--json")
    assert final.returncode == 0, final.stderr
    report = check(home)
    assert report["ok"] and report["letters"] == OFFICE, report
    found = huiyin(home, "search", "补偿", "--json")
    assert found.returncode == 0 and '"total": 0' not in found.stdout
    record_kills("reindex", kills, runs, letters=OFFICE, seed=SEED)


# -- reply generation -----------------------------------------------------------------------


def test_reply_killed_in_a_loop(office: Path, tmp_path: Path, rng: random.Random) -> None:
    home = tmp_path / "office"
    shutil.copytree(office, home)
    out = home / "replies"
    args = ["reply", "7", "--template", "acknowledgement", "--json"]

    def next_file() -> Callable[[], bool]:
        before = set(out.iterdir()) if out.exists() else set()
        # the moment the .docx (then the PDF) is written, before the record is committed
        return lambda: out.exists() and bool(set(out.iterdir()) - before)

    kills, runs = kill_loop("reply", home, args, rng, delays=(0.4, 3.0), triggers=next_file,
                            allowed=set())
    final = huiyin(home, *args)
    assert final.returncode == 0, final.stderr
    report = check(home)
    assert report["ok"], report
    numbers = query(home, "SELECT doc_number, superseded_by_id FROM reply WHERE letter_id = 7")
    assert len({n for n, _ in numbers}) == len(numbers) >= 1  # no number given twice
    assert sum(1 for _, newer in numbers if newer is None) == 1  # one current version
    # the killed runs' files are garbage (stored, then never named): removed on request
    from web.services.consistency import remove_garbage
    from web.services.instance import Instance

    with Instance(home) as instance:
        removed = remove_garbage(instance, min_age_s=0)
    assert removed["orphan_blobs"] == len(report["orphan_blobs"])
    assert check(home)["clean"]
    record_kills("reply", kills, runs, replies=len(numbers), garbage_blobs=len(
        report["orphan_blobs"]), seed=SEED)


# -- migration ------------------------------------------------------------------------------


def _schema(home: Path) -> dict[str, Any]:
    """Tables with their columns, keys and indexes, and the Alembic version: what a migration
    makes (read through SQLAlchemy's inspector, the same on SQLite and PostgreSQL)."""
    with reader(home).connect() as connection:
        inspector = inspect(connection)
        tables = sorted(inspector.get_table_names())
        shape = {t: [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                     for c in inspector.get_columns(t)]
                    + [("primary key", *inspector.get_pk_constraint(t)["constrained_columns"])]
                 for t in tables}
        indexes = sorted(str(i["name"]) for t in tables for i in inspector.get_indexes(t))
        version = [v for (v,) in connection.execute(text("SELECT version_num FROM "
                                                         "alembic_version"))] \
            if "alembic_version" in tables else []
    return {"tables": shape, "indexes": indexes, "version": version}


def _row_counts(home: Path, tables: Iterator[str] | list[str]) -> dict[str, int]:
    with reader(home).connect() as connection:
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in tables}


def _downgrade(home: Path) -> None:
    from web.services.instance import Instance

    with Instance(home) as instance:
        instance.db.migrate(OLD_REVISION, down=True)


def _migrating(home: Path) -> bool:
    """True while another process holds the database's write lock (the migration's BEGIN)."""
    if reader(home).dialect.name == "postgresql":  # a transaction of another session wrote
        writers = query(home, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a "
                              "ON a.pid = l.pid WHERE a.datname = current_database() "
                              "AND l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' "
                              "AND l.pid <> pg_backend_pid()")
        return bool(writers and writers[0][0])
    db = sqlite3.connect(home / "huiyin.db", timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        db.close()


def test_migration_killed_in_a_loop(office: Path, tmp_path: Path, rng: random.Random) -> None:
    home, reference = tmp_path / "office", tmp_path / "reference"
    shutil.copytree(office, home)
    _downgrade(home)
    old = _schema(home)
    assert old["version"] == [OLD_REVISION]
    counts = _row_counts(home, list(old["tables"]))
    assert counts["case"] > 0 and counts["letter"] == OFFICE
    shutil.copytree(home, reference)
    assert huiyin(reference, "init").returncode == 0
    new = _schema(reference)
    assert new != old

    def old_again() -> None:
        if _schema(home) == new:
            _downgrade(home)

    def locked() -> Callable[[], bool]:
        return lambda: _migrating(home)

    def whole(report: dict[str, Any]) -> None:
        """After a kill the schema is entirely the old one or entirely the new one."""
        now = _schema(home)
        assert now in (old, new), f"half-migrated (seed {SEED}): {now['version']}"
        if now == new:
            assert check(home)["ok"]

    # check on the old schema refuses to work ("run huiyin init"): not a consistency report
    kills, runs = _migration_loop(home, rng, old_again, locked, whole)
    final = huiyin(home, "init", "--json")
    assert final.returncode == 0, final.stderr
    assert _schema(home) == new
    assert check(home)["ok"]
    assert _row_counts(home, list(old["tables"])) == counts
    record_kills("migration", kills, runs, from_revision=OLD_REVISION, seed=SEED)


def _migration_loop(home: Path, rng: random.Random, before: Callable[[], None],
                    trigger: Callable[[], Callable[[], bool]],
                    after: Callable[[dict[str, Any]], None]) -> tuple[int, int]:
    kills = runs = 0
    log = home.parent / "migration-killed.log"
    while kills < KILLS:
        assert runs < KILLS * 5, f"migration: only {kills} of {runs} runs were caught running"
        before()
        runs += 1
        if runs % 2:
            killed = run_killed(home, ["init"], delay=rng.uniform(0.6, 2.5), log=log)
        else:
            killed = run_killed(home, ["init"], trigger=trigger(), log=log)
        after({})
        kills += killed
    return kills, runs
