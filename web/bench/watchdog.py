"""A sidecar that cleans up after a throwaway server when the process that started it dies.

A pytest or a benchmark killed outright (SIGKILL, OOM) runs no ``finally``: a server it
started would keep running, its folder left in /tmp. The sidecar is a small Python process
that watches its parent, as letters/_pdf.py's ``_WATCH_PARENT`` does for the warm LibreOffice:
once the parent is gone it runs the stop commands, kills what the pid files name, and removes
the folder. It has a session of its own, so a Ctrl+C meant for the tests does not reach it;
the owner that stops the server itself stands the sidecar down first (`stand_down`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CHECK_S = 0.5  # how often the sidecar looks at its parent

_SIDECAR = r"""
import json, os, shutil, signal, subprocess, sys, time
parent, plan = int(sys.argv[1]), json.loads(sys.argv[2])
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the owner stopped the server itself
while os.getppid() == parent:
    time.sleep(plan["check_s"])
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # cleaning up now: finish it
for command in plan["commands"]:
    try:
        subprocess.run(command, timeout=60, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        pass
for pidfile in plan["pidfiles"]:
    try:
        with open(pidfile, encoding="ascii") as f:
            os.kill(int(f.readline().strip()), signal.SIGKILL)
    except (OSError, ValueError):
        pass
time.sleep(0.2)
shutil.rmtree(plan["remove"], ignore_errors=True)
"""


def start_watchdog(*, remove: Path, commands: Sequence[Sequence[str]] = (),
                   pidfiles: Sequence[Path] = ()) -> subprocess.Popen[bytes]:
    """Start the sidecar: when this process dies, run `commands`, SIGKILL the processes named
    in `pidfiles` (read then, so a server started later is covered), remove `remove`."""
    plan = {"commands": [list(map(str, c)) for c in commands],
            "pidfiles": [str(p) for p in pidfiles], "remove": str(remove), "check_s": CHECK_S}
    return subprocess.Popen(
        [sys.executable, "-c", _SIDECAR, str(os.getpid()), json.dumps(plan)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True)


def stand_down(sidecar: subprocess.Popen[bytes]) -> None:
    """The owner is cleaning up itself: stop the sidecar without it touching anything."""
    if sidecar.poll() is None:
        sidecar.terminate()
        try:
            sidecar.wait(10)
        except subprocess.TimeoutExpired:
            sidecar.kill()
            sidecar.wait(10)
