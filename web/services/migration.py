"""Moving an office's records to another database (SQLite to PostgreSQL when it outgrows it).

The target is created (PostgreSQL) and migrated, must be empty, receives every table, and is
then checked table by table: row counts and content hashes equal. The originals, the index and
the replies stay in the instance folder; afterwards the office sets ``database_url``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from records import Database, create_database, database_exists
from records.transfer import TransferError, TransferReport, copy_records
from web.services.errors import ServiceError


class MigrationError(ServiceError):
    """The records cannot be moved as asked; the message says why."""


def shown_url(url: str) -> str:
    """A database or queue URL fit to print, name or hash: the password masked (an unparsable
    one shown from its host on)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@", 1)[-1] if "@" in url else url


def migrate_database(source_url: str, target_url: str, *, batch: int = 1000,
                     progress: Callable[[str, int, int], None] | None = None) -> TransferReport:
    """Copy every record from one database to another (empty) one and check the copy."""
    try:
        same = make_url(source_url) == make_url(target_url)
    except ArgumentError as e:
        raise MigrationError(f"not a database URL: {e}") from e
    if same:
        raise MigrationError("--from and --to name the same database")
    if not database_exists(source_url):
        raise MigrationError(f"no database at {shown_url(source_url)}")
    source, target = Database(source_url), None
    try:
        create_database(target_url)
        target = Database(target_url)
        return copy_records(source, target, batch=batch, progress=progress)
    except TransferError as e:
        raise MigrationError(str(e)) from e
    except DBAPIError as e:
        raise MigrationError(f"database error: {str(e.orig).strip().splitlines()[0]}") from e
    finally:
        source.close()
        if target is not None:
            target.close()
