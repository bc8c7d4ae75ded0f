"""A fresh database at the newest migration for every test (SQLite, or PostgreSQL when
HUIYIN_TEST_POSTGRES=1: see tests/records/databases.py); ``postgres_url`` an empty PostgreSQL
database in either run, for the tests that compare the two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import records.calendar
from records import Database
from tests.pg import pg_url
from tests.records.databases import ON_POSTGRES, fresh_url, postgres_database

__all__ = ["pg_url"]  # the SQLite run's PostgreSQL server (tests/pg.py), started on first use

UNPATCHED_LIBRARY_YEARS = records.calendar.library_years  # before tests/conftest.py lends more


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(fresh_url(tmp_path))
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty PostgreSQL database of its own: on the session's server when the suite runs on
    PostgreSQL, else on the throwaway server of tests/pg.py (skipped when it is not installed)."""
    if ON_POSTGRES:
        return fresh_url(tmp_path, "pg")
    return postgres_database(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module", autouse=True)
def library_years_as_shipped() -> Iterator[None]:
    """The calendar's years as the holidays library has them (not the next years' statutory
    days that tests/conftest.py lends the web tests): the records test the refusal itself."""
    lent = records.calendar.library_years
    records.calendar.library_years = UNPATCHED_LIBRARY_YEARS
    try:
        yield
    finally:
        records.calendar.library_years = lent
