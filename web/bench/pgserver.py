"""A throwaway PostgreSQL server for tests and benchmarks (Debian's ``postgresql`` package).

``initdb`` into a temporary folder, ``pg_ctl start`` on a private port with its unix socket in
that folder (no TCP), one database created; the server is stopped and the folder removed on
exit, even after an error — and, by a watchdog sidecar (web.bench.watchdog), even when the process
that started it is killed outright (a pytest killed mid-run leaves no server behind).
PostgreSQL refuses to run as root: as root the folder is given to the
``postgres`` system user and every server command runs through ``runuser -u postgres --``.

    with pg_server() as server:
        url = server.url          # postgresql://postgres@/huiyin?host=/tmp/...&port=54xx

:func:`find_bin_dir` returns None when the binaries are absent, so a caller can skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from web.bench.watchdog import stand_down, start_watchdog

PACKAGE = "postgresql"  # the Debian package that brings initdb and pg_ctl
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


class PgServerError(RuntimeError):
    """The throwaway server could not be set up; the message says which step failed."""


@dataclass(frozen=True)
class PgServer:
    """A running throwaway server: where its socket is, and a URL of its database."""

    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        """A libpq / psycopg URL of the database (unix socket, no password)."""
        return (
            f"postgresql://{self.user}@/{self.database}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )

    @property
    def sqlalchemy_url(self) -> str:
        """The same database for SQLAlchemy with the psycopg 3 driver."""
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first), or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _version(path: Path) -> float:
    try:
        return float(path.parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    """A port number nobody listens on now (the server binds only its unix socket)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(command: list[str], *, as_postgres: bool, cwd: Path) -> str:
    """Run a server command (through runuser when we are root); raise PgServerError on failure."""
    if as_postgres:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if done.returncode != 0:
        raise PgServerError(
            f"{Path(command[4 if as_postgres else 0]).name} failed ({done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-800:]}"
        )
    return done.stdout


@contextmanager
def pg_server(
    *, database: str = "huiyin", settings: dict[str, str] | None = None
) -> Iterator[PgServer]:
    """Start a private PostgreSQL server with one database; stop it and delete it on exit."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PgServerError(f"PostgreSQL is not installed (Debian package {PACKAGE}).")
    as_postgres = os.geteuid() == 0
    user = "postgres" if as_postgres else _current_user()
    root = Path(tempfile.mkdtemp(prefix="huiyin-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(socket_dir, "postgres", "postgres")
    root.chmod(0o700)
    port = _free_port()
    stop_command = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"]
    sidecar = start_watchdog(
        remove=root, pidfiles=[data_dir / "postmaster.pid"],
        commands=[["runuser", "-u", "postgres", "--", *stop_command] if as_postgres
                  else stop_command])
    options = {
        "listen_addresses": "''",
        "unix_socket_directories": f"'{socket_dir}'",
        "port": str(port),
        "fsync": "off",  # a throwaway server: durability is not what is measured
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "128MB",
        **(settings or {}),
    }
    started = False
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", user, "-E", "UTF8",
             "--locale=C.UTF-8", "-A", "trust", "--no-sync"],
            as_postgres=as_postgres, cwd=root,
        )  # fmt: skip
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in options.items())
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(root / "server.log"),
             "-w", "-t", str(START_TIMEOUT), "start"],
            as_postgres=as_postgres, cwd=root,
        )  # fmt: skip
        started = True
        server = PgServer(bin_dir, data_dir, socket_dir, port, user, database)
        _run(
            [str(bin_dir / "createdb"), "-h", str(socket_dir), "-p", str(port), "-U", user,
             database],
            as_postgres=as_postgres, cwd=root,
        )  # fmt: skip
        yield server
    finally:
        stand_down(sidecar)
        if started:
            try:
                _run(stop_command, as_postgres=as_postgres, cwd=root)
            except PgServerError:
                pass  # removing the folder below still frees the socket name
        shutil.rmtree(root, ignore_errors=True)


def _current_user() -> str:
    """The login name the server's superuser gets when we are not root."""
    import getpass

    return getpass.getuser()
