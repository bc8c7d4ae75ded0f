"""The database: migrations are the schema, SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from records import Base, Database, Page, sqlite_url


def test_upgrade_creates_every_table_and_is_idempotent(db: Database) -> None:
    db.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert db.is_current()


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_new_database_is_not_current(tmp_path: Path) -> None:
    database = Database(sqlite_url(tmp_path / "empty.db"))
    assert not database.is_current()
    database.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Page(letter_id=999, number=1, width=1, height=1, source="ocr", engine="x"))


def test_a_failed_unit_of_work_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO unit (name, kind, created_at) "
                             "VALUES ('石桥镇人民政府', 'township', '2026-01-01')"))
        raise RuntimeError("the clerk's browser went away")
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM unit")).scalar() == 0
