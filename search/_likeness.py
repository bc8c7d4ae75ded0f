"""How alike two letters are, as a share that means the same for every letter (pure).

The engine ranks more-like-this candidates by a score that only orders them; shown as a share of
the best (内容相似 100 %), the first candidate is always "identical", related or not. Here the
likeness of a candidate is a weighted Dice overlap of the two letters' bigrams, each weighted by
how rare it is in the index (log(1 + N / df); nothing for what most letters say): 1.0 for the
same text, near 0 for letters that share only what every letter says.

Bands, calibrated on the labelled repeat set (tests/web/repeat_set.py, 120 letters, every
letter's 20 most alike; tests/search/test_search_likeness.py): letters on another matter
reach at most 0.26 (median 0.04), so from LIKE = 0.3 a letter is 内容相似 and no unrelated
letter is; follow-ups of the same matter lie at 0.13–0.97 (median 0.49). From NEAR = 0.6
two letters say the same thing in nearly the same words — in that set also other people's
letters on the same matter against the same company in the same words (a joint complaint):
the reasons then say whether it is the same person.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping

from search._analysis import EDGE_END, EDGE_START, index_text, tokens

NEAR = 0.6  # 几乎相同: the same letter again, nearly word for word
LIKE = 0.3  # 内容相似: the same matter, in other words
COMMON_SHARE = 0.3  # a piece in more letters than this says nothing about a letter
MAX_SHARED_SHOWN = 3  # shared phrases named in a reason


def bigrams_of(text: str) -> set[str]:
    """The distinct content pieces of a letter (no edge tokens)."""
    return {t for t, _ in tokens(index_text(text)) if EDGE_START not in t and EDGE_END not in t}


def weights(freqs: Mapping[str, int], n_docs: int) -> dict[str, float]:
    """Rarity weight of each term the index counted: log(1 + N / df), and nothing for what
    more than COMMON_SHARE of the letters say (greetings, 恳请领导重视 ...)."""
    common = max(2.0, COMMON_SHARE * n_docs)
    return {
        t: math.log(1 + n_docs / df) if df <= common else 0.0
        for t, df in freqs.items()
        if df > 0
    }


def likeness(own: set[str], other: set[str], weight: Mapping[str, float]) -> float:
    """Weighted Dice overlap of two letters' pieces, 0..1; a piece of ``other`` the index was
    not asked about weighs the median of the known ones."""
    if not own or not other:
        return 0.0
    known = [v for v in weight.values() if v > 0]
    typical = statistics.median(known) if known else 1.0

    def w(term: str) -> float:
        return weight.get(term, typical)

    shared = sum(w(t) for t in own & other)
    total = sum(w(t) for t in own) + sum(w(t) for t in other)
    return 2 * shared / total if total else 0.0


def band(value: float) -> str:
    """The words for a likeness, fit to show a clerk."""
    if value >= NEAR:
        return "内容几乎相同"
    if value >= LIKE:
        return "内容相似"
    return "内容部分相同"


def shared_phrases(text: str, shared: Iterable[str], weight: Mapping[str, float]) -> list[str]:
    """The longest runs of ``text`` made of shared telling pieces, most telling first."""
    folded = index_text(text)
    terms = set(shared)
    covered = [False] * len(folded)
    for i in range(len(folded) - 1):
        if folded[i : i + 2] in terms:
            covered[i] = covered[i + 1] = True
    runs: dict[str, float] = {}
    i = 0
    while i < len(folded):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j < len(folded) and covered[j]:
            j += 1
        run = folded[i:j]
        if len(run) >= 3:
            score = sum(weight.get(run[k : k + 2], 0.0) for k in range(len(run) - 1))
            runs[run] = max(runs.get(run, 0.0), score)
        i = j
    return sorted(runs, key=lambda r: (-runs[r], r))[:MAX_SHARED_SHOWN]
