"""A real `huiyin serve` on a free port, for the tests of holes that are in the server."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HUIYIN = str(Path(sys.executable).parent / "huiyin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(home: Path, *, processes: int = 2, threads: int = 4) -> Iterator[str]:
    """`huiyin serve` over the instance; yields its base URL once /login answers."""
    port = free_port()
    server = subprocess.Popen(
        [HUIYIN, "--home", str(home), "serve", "--port", str(port), "--processes",
         str(processes), "--threads", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError as e:
                if server.poll() is not None:
                    raise AssertionError(f"huiyin serve ended: {server.communicate()[1]}") from e
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
