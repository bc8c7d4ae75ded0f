"""`huiyin bench search` measures the postgres engine beside tantivy in one run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.pg import SKIP_REASON, postgres_available
from web.bench.search import _choose_engines, command


def test_choose_engines() -> None:
    said: list[str] = []
    assert _choose_engines((), "tantivy, whoosh", said.append) == ["tantivy", "whoosh"]
    assert _choose_engines(("whoosh",), None, said.append) == ["whoosh"]
    default = _choose_engines((), None, said.append)
    assert default == (["tantivy", "postgres"] if postgres_available() else ["tantivy"])
    with pytest.raises(click.UsageError, match="lucene"):
        _choose_engines((), "tantivy,lucene", said.append)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_runs_postgres_beside_tantivy() -> None:
    if not postgres_available():
        pytest.skip(SKIP_REASON)
    result = CliRunner().invoke(
        command, ["--n", "60", "--engines", "tantivy,postgres", "--no-peers", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["engine"] == "tantivy"
    postgres = document["engines"]["postgres"]
    assert postgres["quality"]["recall"] == document["quality"]["recall"] == 1.0
    assert postgres["quality"]["precision"] == 1.0
    assert postgres["speed"]["query_p95_ms"] > 0 and postgres["speed"]["index_mb"] > 0
    assert "postgres" in document["ratios"]
    for speed in (document["speed"], postgres["speed"]):  # an accused reader's search, timed
        assert speed["query_accused_reader_p95_ms"] >= speed["query_accused_reader_p50_ms"] > 0
    assert "query_accused_reader_p50_ms" not in document["exact_search"]["speed"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bench_measures_tolerance_beside_todays_exact_search() -> None:
    result = CliRunner().invoke(
        command, ["--n", "300", "--engines", "tantivy", "--no-peers", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["quality"]["recall"] == document["exact_search"]["quality"]["recall"] == 1.0
    assert document["quality"]["precision"] == 1.0
    assert document["exact_below_tolerant_in_first_ten"] == 0
    tolerance = document["tolerance"]
    assert tolerance["misheard_name"]["recall"] >= 0.9
    assert document["exact_search"]["tolerance"]["misheard_name"]["recall"] == 0.0
    if document.get("real_confusions"):  # the OCR eval set is here: the recogniser's mistakes
        assert tolerance["misread_name_ocr"]["recall"] >= 0.8
    assert "exact_search" in document["ratios"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kept_indexes_are_reused_by_a_run_over_the_same_letters(tmp_path: Path) -> None:
    def run(n: int) -> tuple[dict[str, Any], str]:
        result = CliRunner().invoke(command, [
            "--n", str(n), "--engines", "tantivy", "--no-tolerance", "--json",
            "--keep", str(tmp_path / "kept"),
        ])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout), result.stderr

    first, said = run(40)
    assert "building tantivy" in said and "building tantivy_bigram" in said
    again, said = run(40)
    assert "building" not in said and "reusing tantivy " in said
    assert again["quality"] == first["quality"] and again["n_letters"] == first["n_letters"]
    assert again["speed"]["index_docs_per_s"] == first["speed"]["index_docs_per_s"]
    assert again["peers"]["sqlite_fts5_trigram"]["quality"] == (
        first["peers"]["sqlite_fts5_trigram"]["quality"])  # the added letters were taken out
    _, said = run(41)  # other letters: built again
    assert "building tantivy" in said
