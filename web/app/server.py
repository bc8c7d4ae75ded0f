"""`huiyin serve`: the web application in several processes, and one background worker beside.

One Python process serves pages on one core at a time, however many threads it has, so the
office's pages are served by gunicorn: a master that keeps ``processes`` web processes alive
(each with ``threads`` threads, its own database connections and its own warm LibreOffice).
The application is created in each web process after the fork, never in the master.

The background worker (OCR, indexing, the watched intake folder) runs as its own process,
`huiyin worker`, at a lower CPU priority: a clerk waiting for a page comes before a scan
waiting for OCR. `serve` restarts it if it fails, and both children die with `serve`.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger("huiyin.serve")

WORKER_NICENESS = 10  # OCR yields the CPU to page requests
# Two malloc arenas, not eight per core: ONNX Runtime's threads otherwise spread a worker's heap
# over many arenas that fragment as scans of different sizes come and go.
WORKER_ENV = {"MALLOC_ARENA_MAX": "2"}
RESTART_PAUSE_S = 5.0  # between a background worker's death and its restart
TIMEOUT_S = 180  # a web process silent this long is restarted (a reply preview takes ~2 s)


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
        "worker_class": "gthread",
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
