"""Write the fuzz tally when the session ends (see tests/fuzz/runs.py)."""

from __future__ import annotations

import pytest

from tests.fuzz.runs import write_tally


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_tally()
