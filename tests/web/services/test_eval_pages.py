"""Acceptance on the shared synthetic letter pages: ingest 12, again 12 duplicates, find each.

The pages live beside the checkout (../shared/eval/ocr/pages) and are read in place, never
copied; without them the test is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr.fields import extract_fields
from tests.web.conftest import run, run_json

pytestmark = [pytest.mark.eval, pytest.mark.slow]


def test_the_twelve_pages_are_ingested_once_and_found(home: Path, eval_dir: Path) -> None:
    pages = sorted((eval_dir / "ocr" / "pages").glob("*.jpg"))
    assert len(pages) == 12
    assert run(home, "init").exit_code == 0

    first = run_json(home, "ingest", *map(str, pages))["results"]
    assert [r["error"] for r in first] == [None] * 12
    letter_of = {Path(r["file"]).name: r["letter_id"] for r in first}
    assert len(set(letter_of.values())) == 12

    again = run_json(home, "ingest", *map(str, pages))["results"]
    assert sorted(r["duplicate_of"] for r in again) == sorted(letter_of.values())
    assert all(r["letter_id"] is None for r in again)
    assert json.loads(run(home, "check", "--json").stdout)["letters"] == 12

    phones = 0
    for page in pages:
        truth = extract_fields(page.with_suffix(".txt").read_text(encoding="utf-8"))
        assert truth.names, page.name
        phones += len(truth.phones)
        for query in (*(name[:2] for name in truth.names), *truth.phones):
            found = run_json(home, "search", query, "--limit", "100")["hits"]
            assert letter_of[page.name] in {h["letter_id"] for h in found}, (page.name, query)
    assert phones >= 10  # all but the two letters that give no telephone number
