"""The README documents every command and every setting (a test fails when one is added)."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.cli import main
from web.services.settings import SETTINGS

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"`huiyin {command}" in README


@pytest.mark.parametrize("command", sorted(main.commands["bench"].commands))  # type: ignore[attr-defined]
def test_every_benchmark_is_in_the_readme(command: str) -> None:
    assert command in README.split("`huiyin bench", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize("setting", [s.name for s in SETTINGS])
def test_every_setting_is_in_the_readme(setting: str) -> None:
    assert f"| `{setting}` |" in README
