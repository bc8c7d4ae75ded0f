"""Acceptance: the shared evaluation set (3,000 letters, 85 labelled queries).

A letter is relevant when it contains every space-separated query word as a substring; recall
and precision are macro-averaged over queries and every hit counts (no top-k cut).
"""

from __future__ import annotations

import datetime
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from search import LetterDoc, LetterIndex

EVAL = Path(__file__).parents[2].parent / "shared/eval/search"


def load_letters(path: Path) -> tuple[list[LetterDoc], dict[int, str]]:
    """Letters of corpus.jsonl as LetterDocs, and letter_id -> the corpus id."""
    docs: list[LetterDoc] = []
    names: dict[int, str] = {}
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, start=1):
            row = json.loads(line)
            docs.append(
                LetterDoc(
                    letter_id=n,
                    text=row["text"],
                    petitioners=(row["petitioner"],),
                    township=row["township"],
                    village=row["village"],
                    category=row["category"],
                    received=datetime.date.fromisoformat(row["received"]),
                )
            )
            names[n] = row["id"]
    return docs, names


@pytest.mark.eval
@pytest.mark.timeout(300)
def test_eval_recall_and_precision(tmp_path: Path, open_index: Callable[..., LetterIndex]) -> None:
    if not (EVAL / "corpus.jsonl").is_file():
        pytest.skip(f"evaluation set not present at {EVAL}")
    docs, names = load_letters(EVAL / "corpus.jsonl")
    queries = json.loads((EVAL / "queries.json").read_text(encoding="utf-8"))
    with open_index(tmp_path / "index") as index:  # each engine in turn
        start = time.perf_counter()
        assert index.add(docs) == len(docs)
        build_s = time.perf_counter() - start
        scores: dict[str, list[tuple[float, float]]] = {}
        latency: list[float] = []
        for q in queries:
            start = time.perf_counter()
            result = index.search(q["query"], limit=len(docs))
            latency.append(time.perf_counter() - start)
            got = {names[h.letter_id] for h in result.hits}
            relevant = set(q["relevant"])
            recall = len(got & relevant) / len(relevant) if relevant else 1.0
            precision = len(got & relevant) / len(got) if got else float(not relevant)
            scores.setdefault(q["type"], []).append((recall, precision))
    every = [s for by_type in scores.values() for s in by_type]
    recall = statistics.fmean(r for r, _ in every)
    precision = statistics.fmean(p for _, p in every)
    print(f"\n{len(docs)} letters indexed in {build_s:.1f} s ({len(docs) / build_s:.0f}/s)")
    for kind, values in sorted(scores.items()):
        r = statistics.fmean(v[0] for v in values)
        p = statistics.fmean(v[1] for v in values)
        print(f"{kind:12} n={len(values):3} recall={r:.3f} precision={p:.3f}")
    latency.sort()
    print(
        f"overall recall={recall:.3f} precision={precision:.3f}; all-hits query "
        f"p50={1000 * latency[len(latency) // 2]:.1f} ms "
        f"p95={1000 * latency[int(len(latency) * 0.95)]:.1f} ms"
    )
    assert recall >= 0.99
    assert precision >= 0.95
    assert statistics.fmean(r for r, _ in scores["name2"]) == 1.0
