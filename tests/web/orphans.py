"""A throwaway server must not outlive the process that started it, even one killed with -9."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).parents[2]


def alive(pid: int) -> bool:
    """True while the process runs (a zombie not yet reaped by its new parent is gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def assert_gone_with_a_killed_parent(starting: str, what: str, timeout: float = 60) -> None:
    """Run ``starting`` (Python that starts a server and prints "FOLDER PID") in a parent
    process, SIGKILL that parent, and wait for the server and its folder to go."""
    parent = subprocess.Popen([sys.executable, "-c", "import time\n" + starting +
                               "    time.sleep(600)\n"],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().split()
        assert len(line) == 2, f"the parent did not start its {what}"
        root, pid = Path(line[0]), int(line[1])
        assert root.is_dir() and alive(pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (alive(pid) or root.exists()):
        time.sleep(0.1)
    assert not alive(pid), f"{what} outlived the process that started it"
    assert not root.exists(), f"{root} was left behind"
