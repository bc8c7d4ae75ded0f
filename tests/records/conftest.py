"""A fresh database at the newest migration for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from records import Database, sqlite_url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path / "huiyin.db"))
    database.upgrade()
    yield database
    database.close()
