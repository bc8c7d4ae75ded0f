"""Budgets for the tests that have a long form: quick in `make test`, long in `make soak`."""

from __future__ import annotations

import os

SOAK = os.environ.get("HUIYIN_SOAK", "") not in ("", "0")


def budget(quick: float, soak: float) -> float:
    """The quick figure in `make test`; the soak figure when HUIYIN_SOAK=1 (`make soak`)."""
    return soak if SOAK else quick
