"""Fixtures shared by every test package: instances, scans drawn by ocr.synthetic."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Test instances are throwaway: the demo's telephone and local verification address are right
# there (servers in subprocesses inherit it); tests of the refusal turn it off themselves.
os.environ.setdefault("HUIYIN_DEMO", "1")
EVAL = ROOT.parent / "shared" / "eval"

# The test packages of ocr, letters and search: by DESIGN.md's dependency rule those packages
# import neither records nor web, and their tests create no instance, so they cannot touch the
# records database and give the same result on both runs; so are the fuzzing of ocr and letters
# and the lock-file audit. The PostgreSQL run leaves them out (deselected, counted in pytest's
# summary) and runs every other test, the slow ones included. tests/test_postgres_run.py fails
# if one of them starts using the database.
DATABASE_FREE = ("tests/ocr", "tests/letters", "tests/search", "tests/fuzz/test_ocr_files.py",
                 "tests/fuzz/test_reply_values.py", "tests/security/test_lock_audit.py")


def in_database_free_package(item: pytest.Item) -> bool:
    """True for a test in one of DATABASE_FREE."""
    path = Path(str(item.path)).resolve()
    return any(path.is_relative_to(ROOT / folder) for folder in DATABASE_FREE)


@pytest.fixture(scope="session", autouse=True)
def next_years_statutory_days() -> Iterator[None]:
    """The web tests run on today's date, so a case accepted in December has its deadline in
    a year whose State Council notice the `holidays` library may not carry yet: Huiyin refuses
    such a date (records/calendar.py, shown by tests/records/test_calendar.py) until the
    office enters that year. Here the library's statutory days of the next years stand in for
    the notice, as an office would enter them, so that the pages can be tested any day."""
    import records.calendar as calendar

    saved = calendar.library_years
    years = range(saved().start, max(saved().stop, dt.date.today().year + 3))
    calendar.library_years = lambda: years
    try:
        yield
    finally:
        calendar.library_years = saved


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty folder for an instance."""
    return tmp_path / "instance"


@pytest.fixture
def instance(home: Path) -> Iterator[object]:
    """A created instance (database at head, blob store, index), closed after the test."""
    from web.services.instance import Instance

    inst = Instance(home)
    inst.create()
    yield inst
    inst.close()


@pytest.fixture
def eval_dir() -> Path:
    """The shared evaluation data; absent in a user's clone, where the test is skipped."""
    if not EVAL.is_dir():
        pytest.skip(f"evaluation data not present at {EVAL} (it lives beside the checkout)")
    return EVAL


# ---- The whole suite on PostgreSQL: HUIYIN_TEST_POSTGRES=1 (`make test` runs it a second time).
ON_POSTGRES = os.environ.get("HUIYIN_TEST_POSTGRES", "") not in ("", "0")

# Tests that are about SQLite itself (or the default settings) skip on PostgreSQL, saying why.
SQLITE_ONLY = {
    "tests/web/services/test_backup.py": "huiyin backup copies the embedded SQLite with its "
                                         "online backup API; a PostgreSQL office backs up with "
                                         "pg_dump",
    "tests/web/test_crash.py": "reads huiyin.db with sqlite3 after a SIGKILL (the crash-safety "
                               "of the SQLite file)",
    "tests/web/services/test_settings.py::test_defaults_when_nothing_is_configured":
        "this run sets database_url through HUIYIN_DATABASE_URL, so it is not the default",
}


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say what the PostgreSQL run covers, at the top of its output."""
    if not ON_POSTGRES:
        return None
    return (f"records database: PostgreSQL (HUIYIN_TEST_POSTGRES); {', '.join(DATABASE_FREE)} "
            "are deselected: they cannot touch it (the SQLite run covers them)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, deselect the database-free packages and skip the tests that exercise
    SQLite itself (SQLITE_ONLY), saying why."""
    if not ON_POSTGRES:
        return
    left_out = [item for item in items if in_database_free_package(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not in_database_free_package(item)]
    for item in items:
        path = Path(str(item.path)).relative_to(config.rootpath).as_posix()
        for key, reason in SQLITE_ONLY.items():
            if key in (path, f"{path}::{item.name}"):
                item.add_marker(pytest.mark.skip(reason=f"not on PostgreSQL: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def postgres_for_every_instance() -> Iterator[None]:
    """With HUIYIN_TEST_POSTGRES=1: one throwaway PostgreSQL server for the session, and
    HUIYIN_DATABASE_URL naming a database of its own for every instance the tests create
    (``huiyin_{instance}``, made by Instance.create); subprocesses inherit the variable."""
    if not ON_POSTGRES:
        yield
        return
    from urllib.parse import quote

    from web.bench.pgserver import PgServerError, find_bin_dir, pg_server

    if find_bin_dir() is None:
        pytest.exit("HUIYIN_TEST_POSTGRES=1 but PostgreSQL is not installed "
                    "(apt-get install postgresql)", returncode=2)
    try:
        with pg_server(database="huiyin_test", settings={"max_connections": "500"}) as server:
            template = (f"postgresql+psycopg://{server.user}@/huiyin_{{instance}}"
                        f"?host={quote(str(server.socket_dir), safe='')}&port={server.port}")
            before = os.environ.get("HUIYIN_DATABASE_URL")
            os.environ["HUIYIN_DATABASE_URL"] = template
            copytree = shutil.copytree
            shutil.copytree = functools.partial(_copy_instance, copytree, template)
            try:
                yield
            finally:
                shutil.copytree = copytree
                if before is None:
                    os.environ.pop("HUIYIN_DATABASE_URL", None)
                else:
                    os.environ["HUIYIN_DATABASE_URL"] = before
    except PgServerError as e:
        pytest.exit(f"could not start the test PostgreSQL server: {e}", returncode=2)


def _copy_instance(copytree: Any, template: str, src: Any, dst: Any, *args: Any,
                   **kwargs: Any) -> Any:
    """shutil.copytree that also copies an instance's PostgreSQL database.

    On SQLite the database is a file in the instance folder, so tests that build an office once
    and copy its folder for each test get its records too; on PostgreSQL the copy's database
    (named after the new folder) is cloned from the original's (CREATE DATABASE ... TEMPLATE).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from records import database_exists
    from web.services.instance import instance_name

    done = copytree(src, dst, *args, **kwargs)
    source = template.replace("{instance}", instance_name(Path(src)))
    if not (Path(src) / "blobs").is_dir() or not database_exists(source):
        return done
    target = make_url(template.replace("{instance}", instance_name(Path(dst))))
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    quote = server.dialect.identifier_preparer.quote_identifier
    with server.connect() as connection:  # a template must have no other sessions
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                           {"name": make_url(source).database})
        connection.execute(text(f"CREATE DATABASE {quote(str(target.database))} "
                                f"TEMPLATE {quote(str(make_url(source).database))}"))
    server.dispose()
    return done
