"""`huiyin serve` as a user starts it: several web processes, a niced worker kept alive, nothing
left running when it stops or is killed."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from web.bench.web import descendants, start_server, stop_server
from web.services.instance import Instance

pytestmark = pytest.mark.slow


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _children(pid: int, marker: str) -> list[int]:
    return sorted(p for p in descendants(pid) if marker in _cmdline(p))


def _wait_for(check: object, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()  # type: ignore[operator]
        if found:
            return found
        time.sleep(0.2)
    return check()  # type: ignore[operator]


def test_serve_runs_web_processes_and_a_niced_worker_it_restarts(instance: Instance,
                                                                   tmp_path: Path) -> None:
    process, url = start_server(instance.home, tmp_path / "serve.log")
    try:
        master_and_two = _wait_for(lambda: _children(process.pid, "-m web.app.server"))
        assert len(master_and_two) >= 3
        workers = _children(process.pid, " worker")
        assert len(workers) == 1
        assert os.getpriority(os.PRIO_PROCESS, workers[0]) >= 10  # OCR yields to pages
        os.kill(workers[0], signal.SIGKILL)
        again = _wait_for(lambda: [p for p in _children(process.pid, " worker")
                                   if p != workers[0]], timeout=30)
        assert again, (tmp_path / "serve.log").read_text()
        with urllib.request.urlopen(f"{url}/login", timeout=10) as page:
            assert page.status == 200
    finally:
        stop_server(process)


def test_killing_serve_takes_its_processes_with_it(instance: Instance, tmp_path: Path) -> None:
    process, _ = start_server(instance.home, tmp_path / "serve.log")
    family = descendants(process.pid)
    assert family
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    gone = _wait_for(lambda: not [p for p in family if _cmdline(p)], timeout=60)
    assert gone, [_cmdline(p) for p in family if _cmdline(p)]
