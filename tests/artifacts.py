"""Where tests leave what a person reads afterwards (screenshots, kill and fuzz tallies).

`make test` runs the SQLite and the PostgreSQL passes side by side, so each pass has its own
folder: test-artifacts/ for SQLite, test-artifacts/postgresql/ for the PostgreSQL pass.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1] / "test-artifacts"
ARTIFACTS = _ROOT / "postgresql" if os.environ.get("HUIYIN_TEST_POSTGRES", "") not in ("", "0") \
    else _ROOT
