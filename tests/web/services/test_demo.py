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
