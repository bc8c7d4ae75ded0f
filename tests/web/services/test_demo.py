"""`huiyin init --demo`: sample letters drawn, OCR'd, registered, routed, with open cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import run_json
from web.services.demo import DEMO

pytestmark = pytest.mark.slow


def test_demo_instance_is_searchable_and_has_running_cases(home: Path) -> None:
    created = run_json(home, "init", "--demo")
    assert len(created["demo_letters"]) == len(DEMO)
    assert run_json(home, "init", "--demo")["demo_letters"] == []  # once per instance
    for demo in DEMO:
        name = demo.petitioners[0][0]
        hits = run_json(home, "search", name)["hits"]
        assert len(hits) == 1, name
    listed = run_json(home, "cases")["cases"]
    assert len(listed) == len(DEMO)
    assert {c["unit"] for c in listed} >= {"县自然资源局", "县住房和城乡建设局"}
    assert all(not c["deadline"]["overdue"] for c in listed)
    assert run_json(home, "check")["ok"]


def test_the_demo_enters_next_year_as_an_estimate_when_no_notice_is_known(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In December the demo's cases fall due next year: with no State Council notice for it,
    the demo enters the statutory days and says they are an estimate (a real office enters
    the notice, or is refused)."""
    import datetime as dt

    import records.calendar

    this_year = dt.date.today().year
    monkeypatch.setattr(records.calendar, "library_years", lambda: range(2024, this_year + 1))
    run_json(home, "init", "--demo")
    table = (home / "holidays.csv").read_text(encoding="utf-8")
    assert f"{this_year + 1}-01-01,year,演示：仅按法定节假日估计" in table
    listed = run_json(home, "cases")["cases"]
    assert all(c["deadline"] is not None and not c["deadline_error"] for c in listed)
