"""A fresh records database for a test: SQLite in tmp_path, or, with HUIYIN_TEST_POSTGRES=1, a
new database on the session's PostgreSQL server (tests/conftest.py sets HUIYIN_DATABASE_URL)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from records import create_database, sqlite_url

ON_POSTGRES = os.environ.get("HUIYIN_TEST_POSTGRES", "") not in ("", "0")
_numbers = itertools.count(1)

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite-specific: runs on the SQLite file")


def fresh_url(folder: Path, stem: str = "huiyin", *, create: bool = True) -> str:
    """The URL of an empty database that no other test uses (created on PostgreSQL unless
    ``create`` is false)."""
    template = os.environ.get("HUIYIN_DATABASE_URL", "")
    if not ON_POSTGRES or "{instance}" not in template:
        folder.mkdir(parents=True, exist_ok=True)
        return sqlite_url(folder / f"{stem}.db")
    url = template.replace("{instance}", f"{stem}_{os.getpid()}_{next(_numbers)}")
    if create:
        create_database(url)
    return url


def postgres_database(server_url: str, *, create: bool = True) -> str:
    """A new, empty database on the server of ``server_url`` (a libpq URL of any database);
    only its URL when ``create`` is false."""
    url = make_url(server_url).set(drivername="postgresql+psycopg",
                                   database=f"pg_{os.getpid()}_{next(_numbers)}")
    rendered = url.render_as_string(hide_password=False)
    if create:
        create_database(rendered)
    return rendered
