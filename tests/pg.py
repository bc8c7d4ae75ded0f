"""A PostgreSQL server for the tests: Debian's binaries, a private port and socket, one session.

``pg_url`` (session scope) starts the throwaway server of :mod:`web.bench.pgserver` on first use and
stops it when the session ends, even after failures; tests that need it skip, saying why,
when PostgreSQL is not installed (``make test`` installs Debian's ``postgresql``).
``new_schema_url`` gives each caller its own schema in that database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from web.bench.pgserver import PACKAGE, PgServerError, find_bin_dir, pg_server

SKIP_REASON = f"PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install {PACKAGE}"
_counter = itertools.count(1)


def postgres_available() -> bool:
    """True when initdb and pg_ctl are installed."""
    return find_bin_dir() is not None


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a database on a private PostgreSQL server started for this test session."""
    if not postgres_available():
        pytest.skip(SKIP_REASON)
    try:
        with pg_server(database="huiyin_test") as server:
            yield server.url
    except PgServerError as e:
        pytest.fail(f"could not start the test PostgreSQL server: {e}")


def new_schema_url(url: str, stem: str = "t") -> str:
    """The same database with a schema of its own (``?schema=`` of search's postgres engine)."""
    return f"{url}&schema={stem}{next(_counter)}"
