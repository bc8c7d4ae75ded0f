"""`huiyin serve`: the web application in several processes, and one background worker beside.

One Python process serves pages on one core at a time, however many threads it has, so the
office's pages are served by gunicorn: a master that keeps ``processes`` web processes alive
(each with ``threads`` threads, its own database connections and its own warm LibreOffice).
The application is created in each web process after the fork, never in the master.

The background worker (OCR, indexing, the watched intake folder) runs as its own process,
`huiyin worker`, at a lower CPU priority: a clerk waiting for a page comes before a scan
waiting for OCR. `serve` restarts it if it fails, and both children die with `serve`.

gunicorn's threaded worker gives a connection a thread once its first byte arrives, then
reads the request with blocking calls and no time limit: eight clients that send a header
line every few seconds held every thread of a two-process server. Our worker class
(`PacedThreadWorker`) reads a request's head (request line and headers) without a thread:
whatever has arrived is taken from the socket and kept, and the connection goes back to the
poller until the blank line that ends the head has come, at most HEAD_DEADLINE_S after its
first byte (then it is closed). Only a whole head gets a thread. The body is then read
against a deadline that grows with each byte (at least MIN_READ_RATE bytes a second on average
after READ_GRACE_S), so a large upload at an office network's speed is never cut and a
trickled body is; a client that stops reading our answer is dropped after SEND_IDLE_S.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers import gthread

log = logging.getLogger("huiyin.serve")

WORKER_NICENESS = 10  # OCR yields the CPU to page requests
# Two malloc arenas, not eight per core: ONNX Runtime's threads otherwise spread a worker's heap
# over many arenas that fragment as scans of different sizes come and go.
WORKER_ENV = {"MALLOC_ARENA_MAX": "2"}
RESTART_PAUSE_S = 5.0  # between a background worker's death and its restart
TIMEOUT_S = 180  # a web process silent this long is restarted (a reply preview takes ~2 s)
HEAD_DEADLINE_S = 10.0  # from a request's first byte to the blank line ending its headers
HEAD_LIMIT = 64 << 10  # a head this long is handed to gunicorn's parser, which refuses it
READ_GRACE_S = 5.0  # then the body must come at MIN_READ_RATE on average
MIN_READ_RATE = 8 << 10  # bytes a second, on average, after the grace (a 200 MB scan: 7 h)
SEND_IDLE_S = 60.0  # a client that reads nothing of our answer for this long is dropped


def default_processes() -> int:
    """One web process per core this process may run on (at least two, at most eight)."""
    return max(2, min(8, len(os.sched_getaffinity(0))))


class _Application(BaseApplication):
    """gunicorn's master, with our settings and our app factory (run in each web process)."""

    def __init__(self, home: Path, options: dict[str, Any]) -> None:
        self.home, self.options = home, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web.app import create_app

        return create_app({"HUIYIN_HOME": str(self.home)})


class _PacedSocket:
    """A connection's socket as gunicorn's request parser reads it: recv() under a deadline.

    The deadline is the request's start + READ_GRACE_S + bytes received / MIN_READ_RATE.
    Past it recv() answers b"" (the client "closed"), which the parser and the application
    already handle as a client gone; writes keep a plain idle timeout.
    """

    def __init__(self, sock: socket.socket, client: Any) -> None:
        self._sock, self._client = sock, client
        self.started, self.received = time.monotonic(), 0

    def restart(self) -> None:
        """A new request on a kept-alive connection: a new grace."""
        self.started, self.received = time.monotonic(), 0

    def recv(self, size: int) -> bytes:
        remaining = self.started + READ_GRACE_S + self.received / MIN_READ_RATE - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            self._sock.settimeout(remaining)
            data = self._sock.recv(size)
        except TimeoutError:
            log.warning("a slow client (%s) was dropped: %d bytes in %.0f s", self._client,
                        self.received, time.monotonic() - self.started)
            return b""
        finally:
            self._sock.settimeout(SEND_IDLE_S)
        self.received += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _PacedConn(gthread.TConn):
    """A connection whose head is gathered in the poller, and whose parser reads paced."""

    paced: _PacedSocket | None = None
    head = b""  # what has come of the next request's head
    head_started: float | None = None
    dropped = False  # a slow client: closed at once, without gunicorn's 2 s lingering close

    def close(self, graceful: bool = False) -> None:
        """gthread closes on its main thread: lingering for a client that never closes would
        stop every other connection for two seconds."""
        super().close(graceful=graceful and not self.dropped)

    def init(self) -> None:
        super().init()
        unreader = getattr(self.parser, "unreader", None)
        if self.paced is None and unreader is not None and hasattr(unreader, "sock"):
            self.paced = _PacedSocket(unreader.sock, self.client)
            unreader.sock = self.paced
        self.hand_over_head()

    def hand_over_head(self) -> None:
        """Give the gathered head to the parser, after anything it already holds."""
        unreader = getattr(self.parser, "unreader", None)
        if self.head and unreader is not None:
            unreader.unread(unreader.take_buffered() + self.head)
        self.head, self.head_started = b"", None

    def gather_head(self) -> str:
        """Take what has arrived: "whole" (or ended, or too long), "wait" for more, or "late"."""
        self.sock.setblocking(False)  # only what is there: never wait here
        while len(self.head) < HEAD_LIMIT:
            try:
                chunk = self.sock.recv(HEAD_LIMIT, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return "whole"  # the parser meets the same error and ends the connection
            if not chunk:
                return "whole"  # the client closed: the parser sees the end
            self.head += chunk
        unreader = getattr(self.parser, "unreader", None)
        held = unreader.buf.getvalue() if unreader is not None else b""
        if b"\r\n\r\n" in held + self.head or len(self.head) >= HEAD_LIMIT:
            return "whole"
        if not self.head and not held:
            return "wait"  # nothing yet: wait in the poller, not in a thread
        if self.head_started is None:
            self.head_started = time.monotonic()
        return "late" if time.monotonic() - self.head_started > HEAD_DEADLINE_S else "wait"


class PacedThreadWorker(gthread.ThreadWorker):
    """gunicorn's threaded worker; a request gets a thread once its head has come (docstring)."""

    def accept(self, listener: socket.socket) -> None:
        """As gthread's accept, with our connection class."""
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            self.enqueue_req(_PacedConn(self.cfg, client_sock, client_addr,
                                        listener.getsockname()))
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn: gthread.TConn) -> Any:
        """Back to the poller until the head is whole; then gthread's handling, paced."""
        if isinstance(conn, _PacedConn) and not self.cfg.is_ssl:
            state = conn.gather_head()
            if state == "late":
                log.warning("a slow client (%s) was dropped: no whole request head in %.0f s",
                            conn.client, HEAD_DEADLINE_S)
                conn.dropped = True
                return False
            if state == "wait":
                return gthread._DEFER
            conn.data_ready = True  # the head is here: no waiting for data in the thread
            if conn.initialized:
                conn.hand_over_head()
            if conn.paced is not None:
                conn.paced.restart()
        return super().handle(conn)


def _child(command: list[str], niceness: int = 0,
           env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A child that gets SIGTERM when this process dies, even by SIGKILL (Linux)."""

    def prepare() -> None:
        if niceness:
            os.nice(niceness)
        if sys.platform == "linux":
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return subprocess.Popen(command, preexec_fn=prepare, stdin=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})


def huiyin_command() -> list[str]:
    """The `huiyin` entry point of this environment."""
    script = Path(sys.executable).parent / "huiyin"
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.cli"]


def serve(home: Path, host: str, port: int, *, processes: int, threads: int) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status.

    This process only watches its two children — gunicorn's master and the background worker —
    so that neither reaps the other: it restarts the worker when it fails, passes a stop signal
    on to both, and ends with the web server.
    """
    settings = json.dumps({"home": str(home), "bind": f"{host}:{port}", "processes": processes,
                           "threads": threads})
    web = _child([sys.executable, "-m", "web.app.server", settings])
    worker = _child([*huiyin_command(), "--home", str(home), "worker"], WORKER_NICENESS, WORKER_ENV)
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()
        for child in (web, worker):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while web.poll() is None and not stopping.wait(0.5):
            code = worker.poll()
            if code:  # 0: it was asked to stop
                log.warning("the background worker exited with %s; starting it again", code)
                if not stopping.wait(RESTART_PAUSE_S):
                    worker = _child([*huiyin_command(), "--home", str(home), "worker"],
                                    WORKER_NICENESS, WORKER_ENV)
    finally:
        for child in (worker, web):
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping.is_set() else (web.returncode or 1)


def _master(settings: dict[str, Any]) -> None:
    """gunicorn's master (this module run as a program by `serve`)."""
    options = {
        "bind": settings["bind"],
        "workers": settings["processes"],
        "worker_class": "web.app.server.PacedThreadWorker",
        "threads": settings["threads"],
        "timeout": TIMEOUT_S,
        "graceful_timeout": 30,
        "keepalive": 5,
        "proc_name": "huiyin",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    _Application(Path(settings["home"]), options).run()


if __name__ == "__main__":
    _master(json.loads(sys.argv[1]))
