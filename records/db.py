"""Opening the database: SQLite in WAL mode by default, PostgreSQL through its SQLAlchemy URL."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


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
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        with self.engine.begin() as connection:
            config = _alembic_config(self.url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

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


def _create_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

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
