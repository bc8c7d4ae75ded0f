"""A warm LibreOffice never outlives the process that started it, even one killed by SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STARTER = """
import sys, time
from pathlib import Path
from letters._pdf import WarmConverter
converter = WarmConverter(Path(sys.argv[1]))
converter.start()
print(converter._process.pid, flush=True)
time.sleep(300)
"""


def _alive_in_group(group: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    found.append(int(entry.name))
            except ProcessLookupError:
                pass
    return found


def test_killing_the_parent_takes_libreoffice_down(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    assert parent.stdout is not None
    server = int(parent.stdout.readline())
    group = os.getpgid(server)
    assert _alive_in_group(group), "the server should be running before the kill"
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while _alive_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _alive_in_group(group)
    for pid in left:  # do not leave them to the next test run if the check fails
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"LibreOffice processes left behind: {left}"
