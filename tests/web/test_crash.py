"""SIGKILL `huiyin ingest` mid-batch, run it again: every letter once, nothing orphaned."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.web.conftest import LETTERS, draw

pytestmark = pytest.mark.slow

HUIYIN = str(Path(sys.executable).parent / "huiyin")


def _huiyin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HUIYIN, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=600)


def _states(home: Path) -> list[str]:
    """Each letter's ingest state, followed by "page" once per page saved."""
    try:
        with sqlite3.connect(f"file:{home / 'huiyin.db'}?mode=ro", uri=True, timeout=5) as db:
            states = [s for (s,) in db.execute("SELECT ingest_state FROM letter ORDER BY id")]
            pages = db.execute("SELECT count(*) FROM page").fetchone()[0]
            return states + ["page"] * pages
    except sqlite3.OperationalError:
        return []


def _pdf_state(home: Path) -> str | None:
    """The ingest state of the two-page PDF's letter (None until it is registered)."""
    try:
        with sqlite3.connect(f"file:{home / 'huiyin.db'}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT ingest_state FROM letter WHERE source_name LIKE "
                             "'%two-pages.pdf'").fetchone()
            return row[0] if row else None
    except sqlite3.OperationalError:
        return None


def _ingest_until(home: Path, folder: Path, ready: object) -> None:
    """Start an ingest and SIGKILL it the moment `ready(states)` holds."""
    process = subprocess.Popen([HUIYIN, "--home", str(home), "ingest", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if ready(_states(home)):  # type: ignore[operator]
                break
            time.sleep(0.02)
        assert process.poll() is None, "the ingest finished before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)


def test_killed_ingest_resumes_without_duplicates_or_orphans(tmp_path: Path) -> None:
    home, folder = tmp_path / "instance", tmp_path / "scans"
    folder.mkdir()
    for i, (name, phone, place, matter) in enumerate(LETTERS):
        draw(folder, name, phone, place, matter, fmt=("jpg", "tiff", "png")[i], seed=10 + i)
    from ocr import synthetic

    two_pages = [
        synthetic.render_scan(["第一页：尊敬的领导，", "我叫祁宝山，电话13027685514。"], seed=20),
        synthetic.render_scan(["第二页：请求领导帮忙查一查。", "信访人：祁宝山"], seed=21),
    ]
    synthetic.save_pdf(two_pages, folder / "letter-two-pages.pdf")
    assert _huiyin(home, "init").returncode == 0

    # killed while the second letter is being read, then while the 2-page PDF is (its two pages
    # are read in parallel and saved within milliseconds: a page count is too narrow a target)
    _ingest_until(home, folder, lambda s: s[:1] == ["indexed"] and len(s) - s.count("page") >= 2)
    _ingest_until(home, folder, lambda s: _pdf_state(home) in ("registered", "stored"))
    assert _states(home).count("indexed") < 4

    final = _huiyin(home, "ingest", str(folder), "--json")
    assert final.returncode == 0, final.stderr
    results = json.loads(final.stdout)["results"]
    assert len(results) == 4 and not any(r["error"] for r in results)
    assert _states(home) == ["indexed"] * 4 + ["page"] * 5

    check = _huiyin(home, "check", "--json")
    assert check.returncode == 0, check.stdout
    report = json.loads(check.stdout)
    assert report["ok"] and report["letters"] == 4

    with sqlite3.connect(home / "huiyin.db") as db:
        pages = dict(db.execute("SELECT source_name, page_count FROM letter"))
        rows = db.execute("SELECT letter_id, number, count(*) FROM page GROUP BY 1, 2").fetchall()
    assert pages["letter-two-pages.pdf"] == 2
    assert all(count == 1 for _, _, count in rows)
    for name, phone, _, _ in LETTERS:
        hits = json.loads(_huiyin(home, "search", phone, "--json").stdout)
        assert hits["total"] == 1, (name, phone)
