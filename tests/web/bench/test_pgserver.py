"""The throwaway PostgreSQL server goes away with the process that started it, even a killed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg import SKIP_REASON, postgres_available
from tests.web.orphans import alive, assert_gone_with_a_killed_parent
from web.bench.pgserver import pg_server

pytestmark = pytest.mark.skipif(not postgres_available(), reason=SKIP_REASON)


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
    assert_gone_with_a_killed_parent(
        "from web.bench.pgserver import pg_server\n"
        "with pg_server() as s:\n"
        "    pid = (s.data_dir / 'postmaster.pid').read_text().split()[0]\n"
        "    print(s.data_dir.parent, pid, flush=True)\n", "PostgreSQL")


def test_a_normal_exit_stops_the_server_and_stands_the_watchdog_down() -> None:
    import os

    before = set(_children(os.getpid()))
    with pg_server() as server:
        root = server.data_dir.parent
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        sidecars = set(_children(os.getpid())) - before
        assert sidecars, "no watchdog beside the server"
    assert not alive(postmaster) and not root.exists()
    assert not [pid for pid in sidecars if alive(pid)]
