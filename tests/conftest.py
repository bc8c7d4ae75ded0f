"""Fixtures shared by every test package: instances, scans drawn by ocr.synthetic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty folder for an instance."""
    return tmp_path / "instance"


@pytest.fixture
def instance(home: Path) -> Iterator[object]:
    """A created instance (database at head, blob store, index), closed after the test."""
    from web.instance import Instance

    inst = Instance(home)
    inst.create()
    yield inst
    inst.close()


@pytest.fixture
def eval_dir() -> Path:
    """The shared evaluation data; absent in a user's clone, where the test is skipped."""
    if not EVAL.is_dir():
        pytest.skip(f"evaluation data not present at {EVAL} (it lives beside the checkout)")
    return EVAL
