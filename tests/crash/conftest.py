"""The crash tests' readers of the records (tests/crash/killing.py) close after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.crash.killing import close_readers


@pytest.fixture(autouse=True)
def _close_readers() -> Iterator[None]:
    yield
    close_readers()
