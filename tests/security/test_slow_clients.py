"""Slow clients against the real `huiyin serve`: a few sockets that send a header line every
few seconds must not hold every thread (gunicorn's threaded worker had no read limit)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.security.served import HUIYIN, served

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 24  # six times the threads of the one web process it serves with


def _slow_client(port: int, stop: threading.Event, held: list[float]) -> None:
    """Send a request's headers one line every 2 s, forever; reconnect when dropped."""
    while not stop.is_set():
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            try:
                s.sendall(b"GET /login HTTP/1.1\r\nHost: huiyin\r\n")
                while not stop.wait(2):
                    s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                held.append(time.monotonic() - started)  # the server closed it


def _slow_body(port: int) -> float:
    """A whole head, then a 100 kB body sent 20 bytes a second: seconds until the server ends it."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: huiyin\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
        try:
            while time.monotonic() - started < 90:
                s.sendall(b"username=x&")
                time.sleep(0.5)
        except OSError:
            pass
    return time.monotonic() - started


def test_slow_clients_do_not_stop_the_pages(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    assert subprocess.run([HUIYIN, "--home", str(home), "init"], capture_output=True,
                          timeout=120).returncode == 0
    with served(home, processes=1, threads=4) as base:  # one process: no luck in who accepts
        port = int(base.rsplit(":", 1)[1])
        stop, held = threading.Event(), []
        clients = [threading.Thread(target=_slow_client, args=(port, stop, held), daemon=True)
                   for _ in range(SLOW_CLIENTS)]
        for client in clients:
            client.start()
        try:
            time.sleep(3)  # every thread is now reading a slow client's headers
            waits = []
            for _ in range(3):
                started = time.monotonic()
                with urllib.request.urlopen(f"{base}/login", timeout=20) as answer:
                    assert answer.status == 200
                waits.append(time.monotonic() - started)
                time.sleep(2)
            deadline = time.monotonic() + 40
            while len(held) < SLOW_CLIENTS and time.monotonic() < deadline:
                time.sleep(0.5)  # the slow clients' heads are cut off HEAD_DEADLINE_S in
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=40)
        body_cut_after = _slow_body(port)
    print(f"pages answered in {', '.join(f'{w:.1f}' for w in waits)} s under "
          f"{SLOW_CLIENTS} slow clients; {len(held)} slow clients dropped; a slow body cut "
          f"after {body_cut_after:.0f} s")
    assert max(waits) < 5  # a page within seconds, while the slow clients keep coming
    assert len(held) >= SLOW_CLIENTS  # and each of them was dropped, again and again
    assert body_cut_after < 30  # a body trickled at 20 bytes a second is cut off too
