"""The database: migrations are the schema on SQLite and PostgreSQL alike; SQLite runs in WAL
mode with foreign keys on; a PostgreSQL database is created when missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from records import (
    Base,
    Database,
    Page,
    create_database,
    database_exists,
    drop_database,
    sqlite_url,
)
from tests.records.databases import sqlite_only


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


@sqlite_only
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


def _schema(engine: Engine) -> dict[str, dict[str, object]]:
    """Tables, columns (generic type, nullable, server default), keys and indexes, normalised
    so that the same schema reads the same on SQLite and PostgreSQL."""

    def default(value: str | None) -> str | None:
        if value is None or value.startswith("nextval("):  # SERIAL: SQLite's rowid alias
            return None
        return value.split("::", 1)[0].strip("'")  # ''::character varying, '0' and 0, '[]'::json

    inspector = inspect(engine)
    schema: dict[str, dict[str, object]] = {}
    for table in inspector.get_table_names():
        columns = {
            c["name"]: (type(c["type"].as_generic()).__name__, getattr(c["type"], "length", None),
                        c["nullable"], default(c.get("default")))
            for c in inspector.get_columns(table)
        }
        foreign = sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                          tuple(f["referred_columns"]), (f.get("options") or {}).get("ondelete"))
                         for f in inspector.get_foreign_keys(table))
        indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                         for i in inspector.get_indexes(table)
                         if not i.get("duplicates_constraint"))  # PostgreSQL: a UNIQUE's index
        unique = sorted((u["name"], tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(table))
        primary = inspector.get_pk_constraint(table)
        schema[table] = {"columns": columns, "foreign": foreign, "indexes": indexes,
                         "unique": unique,
                         "primary": (primary["name"], tuple(primary["constrained_columns"]))}
    return schema


def test_postgresql_gets_the_same_schema_as_sqlite(tmp_path: Path, postgres_url: str) -> None:
    on_sqlite, on_postgres = Database(sqlite_url(tmp_path / "a.db")), Database(postgres_url)
    try:
        for database in (on_sqlite, on_postgres):
            database.upgrade()
            assert database.is_current()
            with database.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert diff == [], database.dialect
        sqlite_schema, postgres_schema = _schema(on_sqlite.engine), _schema(on_postgres.engine)
        assert set(sqlite_schema) == set(Base.metadata.tables) | {"alembic_version"}
        assert postgres_schema == sqlite_schema
    finally:
        on_sqlite.close()
        on_postgres.close()


def test_the_audit_trigger_exists_on_postgresql(postgres_url: str) -> None:
    database = Database(postgres_url)
    database.upgrade()
    with database.engine.connect() as connection:
        triggers = connection.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass "
            "AND NOT tgisinternal")).scalars().all()
    database.close()
    assert triggers == ["audit_event_append_only"]


def test_a_missing_postgresql_database_is_created_once(postgres_url: str) -> None:
    name = "Huiyin-测试 \"quoted\""  # any name: CREATE DATABASE quotes the identifier
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    assert not database_exists(url)
    missing = Database(url)
    assert not missing.is_current()  # no database yet: not current, rather than an error
    assert create_database(url) is True
    assert create_database(url) is False  # already there: nothing to do
    missing.upgrade()
    assert missing.is_current()
    missing.close()
    drop_database(url)
    assert not database_exists(url)


def test_sqlite_needs_no_database_created(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "new.db")
    assert create_database(url) is False
    assert not database_exists(url)
