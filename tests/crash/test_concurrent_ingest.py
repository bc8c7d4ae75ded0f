"""Many processes at once: 4 `huiyin ingest` of distinct and overlapping files lose nothing and
register every letter once; two `huiyin worker` processes never read the same page twice."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.crash.killing import HUIYIN, check, huiyin, query
from tests.web.conftest import LETTERS, draw

pytestmark = pytest.mark.slow


def _scans(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    formats = ("png", "jpg", "tiff", "pdf")
    return [draw(folder, *LETTERS[k % len(LETTERS)], fmt=formats[k % len(formats)], seed=300 + k)
            for k in range(count)]


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([HUIYIN, "--home", str(home), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_four_ingests_at_once_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    assert huiyin(home, "init").returncode == 0
    files = _scans(tmp_path / "scans", 8)
    # each file is named by one to three processes; every process has one of its own
    shares = [[0, 1, 2, 6], [2, 3, 0], [3, 4, 5, 1], [5, 6, 7, 0]]
    processes = [_start(home, "ingest", "--json", *(str(files[k]) for k in share))
                 for share in shares]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-3000:]
    results = [r for out, _ in outputs for r in json.loads(out)["results"]]
    assert len(results) == sum(len(s) for s in shares)
    assert not [r for r in results if r["error"]]
    registered = {r["file"]: r["letter_id"] for r in results if r["letter_id"]}
    # every file became exactly one letter, and the other processes were told which one
    assert sorted(registered) == sorted(str(f) for f in files)
    for r in results:
        if r["duplicate_of"]:
            assert r["duplicate_of"] == registered[r["file"]]
    letters = query(home, "SELECT id, source_name, ingest_state, page_count FROM letter")
    assert len(letters) == len(files)
    assert all(state == "indexed" and pages == 1 for _, _, state, pages in letters)
    assert query(home, "SELECT letter_id, number FROM page GROUP BY 1, 2 HAVING count(*) > 1") \
        == []
    reads = query(home, "SELECT entity_id, count(*) FROM audit_event "
                        "WHERE action = 'read' GROUP BY entity_id")
    assert sorted(n for _, n in reads) == [1] * len(files)  # each letter read once
    report = check(home)
    assert report["ok"] and report["letters"] == len(files), report


def test_two_workers_never_read_the_same_page_twice(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    assert huiyin(home, "init").returncode == 0
    intake = home / "intake"
    files = _scans(intake, 8)
    workers = [_start(home, "worker", "--once", "--poll", "0.3", "--json") for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    leftovers = query(home, "SELECT count(*) FROM task WHERE state != 'done'")[0][0]
    if leftovers:  # a worker left before the other queued the last tasks: one more drains them
        assert huiyin(home, "worker", "--once", "--poll", "0.1").returncode == 0
    letters = query(home, "SELECT id, ingest_state FROM letter")
    assert len(letters) == len(files) and {s for _, s in letters} == {"indexed"}
    assert query(home, "SELECT letter_id, number FROM page GROUP BY 1, 2 HAVING count(*) > 1") \
        == []
    reads = query(home, "SELECT entity_id, count(*) FROM audit_event "
                        "WHERE action = 'read' GROUP BY entity_id")
    assert sorted(n for _, n in reads) == [1] * len(files)  # one OCR run per letter's pages
    tasks = query(home, "SELECT kind, state, attempts, error FROM task")
    assert len(tasks) == 2 * len(files)  # one intake-file and one ingest task per scan
    assert all(state == "done" and attempts == 1 for _, state, attempts, _ in tasks), tasks
    assert sorted(p.name for p in (intake / "done").iterdir()) == sorted(f.name for f in files)
    assert not list((intake / "processing").iterdir())
    both = query(home, "SELECT count(DISTINCT actor) FROM audit_event WHERE action = 'read'")
    assert both  # who read is "system"; which worker ran each task is in the task's lease
    report = check(home)
    assert report["ok"], report
