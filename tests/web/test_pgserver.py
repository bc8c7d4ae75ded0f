"""The throwaway PostgreSQL server goes away with the process that started it, even a killed one."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pg import SKIP_REASON, postgres_available
from web.pgserver import pg_server

pytestmark = pytest.mark.skipif(not postgres_available(), reason=SKIP_REASON)

REPO = Path(__file__).parents[2]


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie not yet reaped by its new parent is gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_sigkilled_parent_leaves_no_server_and_no_folder() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", "import time\n"
         "from web.pgserver import pg_server\n"
         "with pg_server() as s:\n"
         "    pid = (s.data_dir / 'postmaster.pid').read_text().split()[0]\n"
         "    print(s.data_dir.parent, pid, flush=True)\n"
         "    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().split()
        assert len(line) == 2, "the parent did not start its server"
        root, postmaster = Path(line[0]), int(line[1])
        assert root.is_dir() and _alive(postmaster)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (_alive(postmaster) or root.exists()):
        time.sleep(0.2)
    assert not _alive(postmaster), "PostgreSQL outlived the process that started it"
    assert not root.exists(), f"{root} was left behind"


def test_a_normal_exit_stops_the_server_and_stands_the_watchdog_down() -> None:
    import os

    before = set(_children(os.getpid()))
    with pg_server() as server:
        root = server.data_dir.parent
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        sidecars = set(_children(os.getpid())) - before
        assert sidecars, "no watchdog beside the server"
    assert not _alive(postmaster) and not root.exists()
    assert not [pid for pid in sidecars if _alive(pid)]
