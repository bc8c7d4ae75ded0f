"""Helpers of the crash tests: run `huiyin`, SIGKILL it at a moment, read `huiyin check` and
the records (SQLite, or PostgreSQL with HUIYIN_TEST_POSTGRES=1)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from tests.artifacts import ARTIFACTS

HUIYIN = str(Path(sys.executable).parent / "huiyin")
KILLS = ARTIFACTS / "crash-kills.json"


def huiyin(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run one `huiyin --home HOME ...` to its end."""
    return subprocess.run([HUIYIN, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=timeout)


def check(home: Path) -> dict[str, Any]:
    """`huiyin check --json` as a document (its exit status is in the document's "ok")."""
    done = huiyin(home, "check", "--json", timeout=300)
    assert done.stdout.strip(), f"huiyin check printed nothing: {done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == (0 if report["ok"] else 1), done.stderr
    return report


def run_killed(home: Path, args: list[str], *, delay: float | None = None,
               trigger: Callable[[], bool] | None = None, log: Path | None = None,
               timeout: float = 300) -> bool:
    """Start `huiyin ARGS`, SIGKILL it after ``delay`` s or once ``trigger()`` holds.

    Returns True when the kill found it running (a kill survived counts only then); False
    when it had finished first. Only the huiyin process is killed, as a crash would: its
    LibreOffice helper watches its parent and goes with it.
    """
    out = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen([HUIYIN, "--home", str(home), *args], stdout=out,
                               stderr=out, stdin=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        while process.poll() is None and time.monotonic() - started < timeout:
            if delay is not None and time.monotonic() - started >= delay:
                break
            if trigger is not None and trigger():
                break
            time.sleep(0.01)
        if process.poll() is not None:
            return False
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if log and not isinstance(out, int):
            out.close()


def reader(home: Path) -> Engine:
    """An engine that reads the instance's records while another process may write them: its
    SQLite file opened read-only (a connection per use, as a separate reader would), or its
    own database on PostgreSQL when the suite runs there (HUIYIN_DATABASE_URL names it)."""
    from web.services.instance import Instance

    url = Instance(home).database_url
    if url not in _readers:
        if make_url(url).get_backend_name() == "sqlite":
            _readers[url] = create_engine(
                f"sqlite:///file:{quote(str(home.resolve() / 'huiyin.db'))}?mode=ro&uri=true",
                connect_args={"timeout": 5}, poolclass=NullPool)
        else:
            _readers[url] = create_engine(url, pool_pre_ping=True)
    return _readers[url]


_readers: dict[str, Engine] = {}


def close_readers() -> None:
    """Close the connections reader() keeps (tests/crash/conftest.py, after each test)."""
    while _readers:
        _readers.popitem()[1].dispose()


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` in the instance's records; none while the database or table is not
    there yet (or, on SQLite, is locked)."""
    try:
        with reader(home).connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    except (OperationalError, ProgrammingError):
        return []


def record_kills(operation: str, kills: int, attempts: int, **details: Any) -> None:
    """Add one operation's tally to test-artifacts/crash-kills.json (kept across tests)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        tally = json.loads(KILLS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tally = {}
    tally.setdefault("operations", {})[operation] = {
        "kills_survived": kills, "runs_started": attempts, **details,
        "soak": os.environ.get("HUIYIN_SOAK", "") not in ("", "0"),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tally["total_kills_survived"] = sum(
        op["kills_survived"] for op in tally["operations"].values())
    tmp = KILLS.with_suffix(".tmp")
    tmp.write_text(json.dumps(tally, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(KILLS)


def seeded_office(home: Path, letters: int) -> None:
    """An instance of ``letters`` indexed letters and their cases (bulk-inserted, no OCR),
    with each letter's original in the blob store, so that `huiyin check` finds it clean."""
    from sqlalchemy import select

    from records import Letter
    from web.bench.web import build_instance
    from web.services.instance import Instance

    build_instance(home, letters, 7, lambda message: None)
    with Instance(home) as instance, instance.db.session() as session:
        for name in session.scalars(select(Letter.source_name)):
            # the seeded digests are those of these few bytes (web.bench.web._insert)
            instance.blobs.put_stream(io.BytesIO(f"bench-{Path(name).stem}".encode()))
