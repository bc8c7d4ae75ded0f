"""Fuzzing's budget and its tally: how many examples each target ran, written for the README.

`make test` gives every target a small fixed number of examples (all of them together well
under a minute); `make soak` (HUIYIN_SOAK=1) many more. The examples actually run are counted
and written to test-artifacts/fuzz-executions.json when the session ends.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings

from tests.artifacts import ARTIFACTS
from tests.soak import SOAK, budget

ARTIFACT = ARTIFACTS / "fuzz-executions.json"
executions: Counter[str] = Counter()


def fuzz_settings(quick: int, soak: int) -> settings:
    """Hypothesis settings for one target: its example budget, no example database in the
    checkout, no per-example deadline (a slow shared CI core is not a bug; a hang is caught by
    the target's own time check and pytest's timeout)."""
    return settings(max_examples=int(budget(quick=quick, soak=soak)), deadline=None,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.data_too_large,
                                                          HealthCheck.filter_too_much])


def count(target: str) -> None:
    """One more example run against ``target``."""
    executions[target] += 1


def write_tally() -> Path | None:
    """Merge this session's counts into the artifact (several test runs add up per mode)."""
    if not executions:
        return None
    ARTIFACT.parent.mkdir(exist_ok=True)
    mode = "soak" if SOAK else "quick"
    data = {"quick": {}, "soak": {}}
    if ARTIFACT.exists():
        try:
            data.update(json.loads(ARTIFACT.read_text()))
        except ValueError:
            pass
    data[mode] = {**data.get(mode, {}), **dict(executions)}
    data[f"{mode}_total"] = sum(data[mode].values())
    ARTIFACT.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return ARTIFACT
