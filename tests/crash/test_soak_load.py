"""`huiyin bench soak`: clerks on the real server while scans keep arriving — no error, every
scan indexed, memory flat. Quick: 3 clerks for 8 s; `make soak`: 50 clerks for 5 minutes."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.crash.killing import ARTIFACTS
from tests.soak import budget
from web.bench.web import huiyin_command

pytestmark = [pytest.mark.slow, pytest.mark.soak]

CLIENTS = int(budget(quick=3, soak=50))
SECONDS = budget(quick=8, soak=300)
LETTERS = int(budget(quick=300, soak=2000))
SCAN_EVERY = budget(quick=2, soak=5)


@pytest.mark.timeout(int(SECONDS) + 1200)  # building, 50 sign-ins, the last scans read
def test_clerks_and_ingest_together_make_no_error_and_memory_stays_flat() -> None:
    done = subprocess.run(
        [*huiyin_command(), "bench", "soak", "--clients", str(CLIENTS), "--seconds",
         str(SECONDS), "--letters", str(LETTERS), "--scan-every", str(SCAN_EVERY), "--json"],
        capture_output=True, text=True, timeout=SECONDS + 900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "soak-load.json").write_text(done.stdout, encoding="utf-8")
    assert report["clients"] == CLIENTS and report["requests"] > CLIENTS
    assert report["errors"] == 0, report["error_samples"]
    for route in ("register", "letter", "search", "case", "dashboard"):
        assert report["routes"][route]["count"] > 0 and report["routes"][route]["errors"] == 0
    fed = report["ingest"]["fed"]
    assert fed >= 2 and report["ingest"]["indexed"] == fed and report["ingest"]["lost"] == 0
    rss = report["rss_mb"]
    assert rss["start"] and rss["end"] and rss["samples"]
    assert report["flat"], rss
