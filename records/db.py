"""Opening the database: SQLite in WAL mode by default, PostgreSQL through its SQLAlchemy URL."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from records.errors import RecordsError

MIGRATIONS = Path(__file__).parent / "migrations"

# SQLite's words for a file it cannot write, and what they mean for the office.
_UNWRITABLE = {"database or disk is full": "the disk is full: free some space, then try again",
               "attempt to write a readonly database": "the database file or its folder is "
               "read-only",
               "unable to open database file": "the database file or its folder is read-only "
               "or missing",
               "disk i/o error": "the disk failed or is full"}


class DatabaseUnwritable(RecordsError):
    """The database could not be written (disk full, read-only): the change was rolled back."""


def _unwritable(error: OperationalError) -> str | None:
    message = str(error.orig).lower()
    return next((why for words, why in _UNWRITABLE.items() if words in message), None)


class Database:
    """One engine and its session factory; the only door to the records."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A Database dropped without close() (an app object that simply goes away) still
        # closes its pooled connections, rather than leaving them to the server's timeout.
        self._release = weakref.finalize(self, self.engine.dispose)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``: for the few places where the SQL differs."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back otherwise.

        A database that cannot be written (disk full, read-only folder) is a
        DatabaseUnwritable saying so; the unit of work is rolled back whole.
        """
        try:
            with self._sessions() as session, session.begin():
                yield session
        except OperationalError as e:
            why = _unwritable(e)
            if why is None:
                raise
            raise DatabaseUnwritable(f"could not write the records ({self._where()}): {why}; "
                                     "nothing was half-written") from e

    def _where(self) -> str:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            return str(parsed.database)
        return parsed.render_as_string(hide_password=True)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        self.migrate("head")

    def migrate(self, revision: str, *, down: bool = False) -> None:
        """Upgrade (or, with ``down``, downgrade) the schema to ``revision`` all at once.

        On SQLite every migration runs in one transaction: a process killed halfway leaves
        the schema as it was, never half-migrated (see ``_migration_engine``).
        """
        engine = _migration_engine(self.url) if self.dialect == "sqlite" else self.engine
        try:
            with engine.begin() as connection:
                config = _alembic_config(self.url)
                config.attributes["connection"] = connection
                if down:
                    command.downgrade(config, revision)
                else:
                    command.upgrade(config, revision)
                if self.dialect == "sqlite":
                    _check_foreign_keys(connection)
        finally:
            if engine is not self.engine:
                engine.dispose()

    def is_current(self) -> bool:
        """True when the schema is at the newest migration (a missing database is not)."""
        head = ScriptDirectory.from_config(_alembic_config(self.url)).get_current_head()
        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision() == head
        except OperationalError:
            if database_exists(self.url):
                raise
            return False

    def close(self) -> None:
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    """The URL of the embedded default database file."""
    return f"sqlite:///{path.resolve()}"


def database_exists(url: str) -> bool:
    """Whether the database a URL names is there (a SQLite file; a PostgreSQL database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        return name in ("", ":memory:") or Path(name).is_file()
    engine = _server_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).scalar()
        return found is not None
    finally:
        engine.dispose()


def create_database(url: str) -> bool:
    """Create the PostgreSQL database a URL names when it is missing; True when it was created.

    SQLite needs nothing (the file is made on first use). For PostgreSQL we connect to the
    server's ``postgres`` database and run CREATE DATABASE with the name quoted; a second
    process that created it first is not an error.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    if not parsed.database:
        raise ValueError(f"the URL names no database: {parsed.render_as_string()}")
    if database_exists(url):
        return False
    engine = _server_engine(url)
    quoted = engine.dialect.identifier_preparer.quote_identifier(parsed.database)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {quoted} ENCODING 'UTF8'"))
    except DBAPIError:
        if not database_exists(url):  # not a race lost to another process: a real failure
            raise
        return False
    finally:
        engine.dispose()
    return True


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database (throwaway test databases); SQLite files are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    engine = _server_engine(url)
    quoted = engine.dialect.identifier_preparer.quote_identifier(parsed.database)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        engine.dispose()


def _server_engine(url: str) -> Engine:
    """An autocommit engine on the server's ``postgres`` database (CREATE DATABASE needs it)."""
    server = make_url(url).set(database="postgres")
    return create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _migration_engine(url: str) -> Engine:
    """A SQLite engine whose transactions really contain DDL, with foreign keys off.

    By default the sqlite3 driver begins a transaction only before INSERT/UPDATE/DELETE, so
    each CREATE, DROP and ALTER of a migration commits on its own: a kill between two of them
    leaves a half-migrated file (a table copied but not renamed, the version not bumped).
    Here the driver is left in autocommit and SQLAlchemy's begin emits BEGIN IMMEDIATE (the
    SQLAlchemy recipe for pysqlite), so SQLite's own transactional DDL covers the whole
    upgrade. Foreign keys are off (they cannot change inside a transaction) because Alembic's
    batch mode rebuilds a table by copy, drop and rename, and dropping a table that other rows
    refer to fails when they are on; they are checked before the commit instead.
    """
    engine = create_engine(url, connect_args={"timeout": 30}, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _check_foreign_keys(connection: Any) -> None:
    """Refuse (roll back) a migration that left rows pointing at nothing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        shown = ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in broken[:5])
        raise RuntimeError(f"the migration would break {len(broken)} reference(s): {shown}")


def _read_only(url: str) -> str | None:
    """For a SQLite file in a folder we cannot write (read-only mount): a read-only URL."""
    name = make_url(url).database or ""
    path = Path(name)
    if name in ("", ":memory:") or name.startswith("file:") or not path.is_file():
        return None
    if os.access(path.parent, os.W_OK):
        return None
    # On a read-only file system nobody can change the file, and SQLite could not make the
    # WAL index it needs to read it: "immutable" reads it without one.
    frozen = os.statvfs(path.parent).f_flag & os.ST_RDONLY
    return (f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro"
            + ("&immutable=1" if frozen else "") + "&uri=true")


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    # Reading a read-only instance still works (check, search); each write is refused with
    # "attempt to write a readonly database", which session() turns into a clear error.
    engine = create_engine(_read_only(url) or url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL: readers never block the writer; FULL: a committed letter survives power loss.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
