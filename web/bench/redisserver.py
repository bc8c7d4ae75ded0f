"""A throwaway Redis server for tests and benchmarks (Debian's ``redis-server`` package).

Started on a unix socket in a temporary folder (no TCP, no persistence); stopped and the
folder removed on exit, even after an error, and by a watchdog sidecar (web.bench.watchdog) even
when the process that started it is killed outright.

    with redis_server() as server:
        url = server.url          # unix:///tmp/huiyin-redis-.../redis.sock?db=0

:func:`find_redis_server` returns None when the binary is absent, so a caller can skip.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from web.bench.watchdog import stand_down, start_watchdog

PACKAGE = "redis-server"  # the Debian package
BINARY = Path("/usr/bin/redis-server")
START_TIMEOUT = 20.0


class RedisServerError(RuntimeError):
    """The throwaway server could not be started; the message says why."""


@dataclass(frozen=True)
class RedisServer:
    """A running throwaway server: its folder, socket and process."""

    root: Path
    socket: Path
    pid: int

    def url_for(self, db: int = 0) -> str:
        """A redis-py URL of one of its numbered databases."""
        return f"unix://{self.socket}?db={db}"

    @property
    def url(self) -> str:
        return self.url_for(0)


def find_redis_server() -> Path | None:
    """Debian's /usr/bin/redis-server, else one on PATH, else None."""
    if BINARY.is_file():
        return BINARY
    found = shutil.which("redis-server")
    return Path(found) if found else None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start a private Redis on a unix socket; stop it and delete its folder on exit."""
    binary = find_redis_server()
    if binary is None:
        raise RedisServerError(f"redis-server is not installed (Debian package {PACKAGE}).")
    root = Path(tempfile.mkdtemp(prefix="huiyin-redis-"))
    root.chmod(0o700)
    sock, pidfile, logfile = root / "redis.sock", root / "redis.pid", root / "redis.log"
    sidecar = start_watchdog(remove=root, pidfiles=[pidfile])
    process: subprocess.Popen[bytes] | None = None
    try:
        process = subprocess.Popen(
            [str(binary), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
             "--dir", str(root), "--pidfile", str(pidfile), "--logfile", str(logfile),
             "--daemonize", "no", "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # fmt: skip
        _wait_ready(process, sock, logfile)
        yield RedisServer(root, sock, process.pid)
    finally:
        stand_down(sidecar)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(process: subprocess.Popen[bytes], sock: Path, logfile: Path) -> None:
    import redis

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = logfile.read_text(errors="replace")[-800:] if logfile.exists() else ""
            raise RedisServerError(f"redis-server exited at start ({process.returncode}): {log}")
        if sock.exists():
            client = redis.Redis(unix_socket_path=str(sock))
            try:
                if client.ping():
                    return
            except redis.exceptions.RedisError:
                pass
            finally:
                client.close()
        time.sleep(0.05)
    raise RedisServerError(f"redis-server did not answer within {START_TIMEOUT:.0f} s")
