"""A worker killed mid-letter: the next worker on this machine takes its task back at its start
instead of leaving the letter unfinished for the whole lease (5 minutes)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.crash.killing import HUIYIN, huiyin, query, run_killed
from tests.web.conftest import LETTERS, draw

pytestmark = pytest.mark.slow


def _running_ingest(home: Path) -> bool:
    return bool(query(home, "SELECT id FROM task WHERE kind = 'ingest' AND state = 'running'"))


def test_a_killed_workers_letter_is_finished_by_the_next_worker(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    assert huiyin(home, "init").returncode == 0
    (home / "intake").mkdir(exist_ok=True)
    draw(home / "intake", *LETTERS[0], fmt="png", seed=11)
    killed = run_killed(home, ["worker", "--poll", "0.2"], trigger=lambda: _running_ingest(home),
                        timeout=300, log=tmp_path / "worker.log")
    assert killed, (tmp_path / "worker.log").read_text(encoding="utf-8")[-3000:]
    leased = query(home, "SELECT leased_by, leased_until FROM task WHERE state = 'running'")
    assert len(leased) == 1, leased  # the dead worker's lease, minutes from running out

    done = subprocess.run([HUIYIN, "--home", str(home), "worker", "--once", "--poll", "0.1",
                           "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["done"] == 1
    assert "taken back" in done.stderr
    assert query(home, "SELECT state, attempts FROM task WHERE kind = 'ingest'") == [("done", 2)]
    assert query(home, "SELECT ingest_state FROM letter") == [("indexed",)]


def test_a_live_workers_task_is_left_to_it(tmp_path: Path) -> None:
    """Only a gone process's tasks are taken back: a running worker keeps its lease."""
    home = tmp_path / "instance"
    assert huiyin(home, "init").returncode == 0
    (home / "intake").mkdir(exist_ok=True)
    draw(home / "intake", *LETTERS[1], fmt="png", seed=12)
    first = subprocess.Popen([HUIYIN, "--home", str(home), "worker", "--poll", "0.2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not _running_ingest(home) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _running_ingest(home)
        second = huiyin(home, "worker", "--once", "--poll", "0.1", "--json")
        assert "taken back" not in second.stderr
        assert json.loads(second.stdout)["done"] == 0
    finally:
        first.terminate()
        first.wait(timeout=60)
