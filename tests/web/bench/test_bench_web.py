"""`huiyin bench web` at a tiny size: it builds, caches, serves, loads, and says what it saw."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.pg import SKIP_REASON, postgres_available
from web.bench.web import huiyin_command

pytestmark = pytest.mark.slow


def bench(cache: Path, *options: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [*huiyin_command(), "bench", "web", "--n", "200", "--clients", "2", "--seconds", "3",
         "--cache", str(cache), "--json", *options],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_bench_web_smoke(tmp_path: Path) -> None:
    first = bench(tmp_path, "--think", "0")  # no pause: 3 s reach a preview (every 5th round)
    assert first["n_letters"] == 200 and first["clients"] == 2
    assert first["instance"]["cached"] is False
    assert 0.5 * 200 < first["n_letters_in_cases"] < 0.8 * 200  # about 60% in cases
    routes = first["routes"]
    assert routes["login"]["count"] == 2 and routes["login"]["errors"] == 0
    for route in ("register", "letter", "search", "case", "dashboard", "reply_form"):
        assert routes[route]["count"] > 0, route
        assert routes[route]["errors"] == 0, (route, first["error_samples"])
        assert 0 < routes[route]["p50_ms"] <= routes[route]["p95_ms"] <= routes[route]["max_ms"]
    assert first["requests_per_s"] > 0
    assert first["database"] == "sqlite" and first["letter_p95_ms"] == routes["letter"]["p95_ms"]
    assert 0 < first["rates_year_seconds"]["median"] <= first["rates_year_seconds"]["max"]
    assert 0 < first["rates_year_cases"] < first["n_cases"]  # a year of the ~3.5 years
    assert first["server_rss_mb"]["start"] and first["server_rss_mb"]["end"]
    assert isinstance(first["pages_within_target"], bool)
    assert "reply_preview" in first["excluded_from_target"]
    assert routes["reply_preview"]["count"] > 0  # a document rendered through LibreOffice

    second = bench(tmp_path)  # the seeded instance is reused, not built again
    assert second["instance"]["cached"] is True
    assert second["think_s"] == 0.2 and 0 < second["requests"] < first["requests"]  # clerks read
    assert second["n_cases"] == first["n_cases"]
    # nothing is left running: the server's process group is gone
    assert not any(f"--home {tmp_path}" in _cmdline(pid) for pid in _pids())


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not postgres_available(), reason=SKIP_REASON)
@pytest.mark.skipif(ON_POSTGRES, reason="starts its own PostgreSQL server: the SQLite run ran it")
def test_bench_web_postgres(tmp_path: Path) -> None:
    """The same load on PostgreSQL (records and search index), with the year's rates and plans."""
    result = subprocess.run(
        [*huiyin_command(), "bench", "web", "--postgres", "--explain", "--n", "300",
         "--clients", "2", "--seconds", "5", "--cache", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    document = json.loads(result.stdout)
    assert document["database"] == "postgresql" and document["search_engine"] == "postgres"
    assert document["errors"] == 0, document["error_samples"]
    assert document["routes"]["letter"]["count"] > 0
    assert document["letter_p95_ms"] == document["routes"]["letter"]["p95_ms"] > 0
    rates = document["rates_year_seconds"]
    assert 0 < rates["median"] <= rates["max"] and len(rates["runs"]) == 3
    assert 0 < document["rates_year_cases"] < document["n_cases"]
    letter_sql = document["explain"]["letter_page"]["statements"]
    assert any("FROM letter" in s["statement"] for s in letter_sql)
    assert all(s["execution_ms"] is not None and s["plan"] for s in letter_sql)
    facts_sql = document["explain"]["case_facts"]["statements"]
    assert document["explain"]["case_facts"]["cases"] == document["rates_year_cases"]
    assert any('FROM "case"' in s["statement"] for s in facts_sql)
    assert not any(f"--home {tmp_path}" in _cmdline(pid) for pid in _pids())
