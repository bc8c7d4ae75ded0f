"""Character error rate, the one accuracy figure the project quotes for OCR."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

# Punctuation NFKC leaves alone but a scan cannot tell apart from its ASCII twin.
_FOLD = str.maketrans(
    {
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',
        "\u2033": '"',
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",
        "\u2032": "'",
        "\u3002": ".",  # 。
        "\u2014": "-",  # —
        "\u2013": "-",
        "\u2212": "-",
        "\u30fb": "\u00b7",  # ・
    }
)


def normalize_for_cer(text: str) -> str:
    """Drop whitespace and fold full-/half-width forms so only real misreadings count."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return "".join(ch for ch in folded if not ch.isspace())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insert, delete, substitute cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Errors and reference length after normalizing, to pool a CER over many lines."""
    ref = normalize_for_cer(reference)
    hyp = normalize_for_cer(hypothesis)
    return edit_distance(ref, hyp), len(ref)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance / reference length, ignoring whitespace and width forms."""
    errors, length = character_errors(reference, hypothesis)
    if length == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / length


def _alignment(ref: str, hyp: str) -> list[tuple[int | None, int | None]]:
    """A least-cost edit script as (ref index, hyp index) pairs; None on the missing side."""
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
                cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]),
            )
    pairs: list[tuple[int | None, int | None]] = []
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif j and cost[i][j] == cost[i][j - 1] + 1:
            j -= 1
            pairs.append((None, j))
        else:
            i -= 1
            pairs.append((i, None))
    return pairs[::-1]


@dataclass
class DoubtTally:
    """How well per-character doubt marks point at misreadings, pooled over lines."""

    errors: int = 0  # edit operations against the reference (the CER's numerator)
    errors_marked: int = 0  # ... on a marked character (a missing one: next to one)
    characters: int = 0  # characters read
    characters_marked: int = 0
    # Per kind of edit (substitution, insertion, deletion): [errors, of them marked].
    kinds: dict[str, list[int]] = field(default_factory=dict)

    def add(self, reference: str, text: str, marked: Sequence[bool]) -> None:
        """Score one line: ``marked[i]`` says whether character ``i`` of ``text`` is marked."""
        keep = [i for i, ch in enumerate(text) if normalize_for_cer(ch)]
        hyp = "".join(normalize_for_cer(text[i]) for i in keep)
        flags = [bool(marked[i]) for i in keep] if len(hyp) == len(keep) else []
        if not flags:  # a character folded into two: mark by position is lost, be strict
            flags = [False] * len(hyp)
        self.characters += len(hyp)
        self.characters_marked += sum(flags)
        ref = normalize_for_cer(reference)
        pairs = _alignment(ref, hyp)
        for n, (r, h) in enumerate(pairs):
            if h is not None and r is not None and ref[r] == hyp[h]:
                continue
            if h is not None:
                kind, hit = ("substitution" if r is not None else "insertion"), flags[h]
            else:
                near = [pairs[m][1] for m in (n - 1, n + 1) if 0 <= m < len(pairs)]
                kind, hit = "deletion", any(flags[k] for k in near if k is not None)
            self.errors += 1
            self.errors_marked += hit
            tally = self.kinds.setdefault(kind, [0, 0])
            tally[0] += 1
            tally[1] += hit

    def as_dict(self) -> dict[str, float | int | dict[str, str]]:
        """Recall of the marks over misreadings, the share of characters marked, and per
        kind of misreading how many were marked (``"marked/all"``)."""
        return {
            "errors": self.errors,
            "errors_marked": round(self.errors_marked / self.errors, 3) if self.errors else 0.0,
            "characters": self.characters,
            "characters_marked": (
                round(self.characters_marked / self.characters, 3) if self.characters else 0.0
            ),
            "by_kind": {k: f"{m}/{n}" for k, (n, m) in sorted(self.kinds.items())},
        }


# A written line counts as found when this share of its characters is read, in place.
FOUND_SHARE = 0.5


def lines_found(reference_lines: Sequence[str], text: str) -> tuple[int, int]:
    """How many written lines of a page were read (half their characters matched in order
    against the page's text), and how many there are: a lost line shows here, not in CER."""
    refs = [normalize_for_cer(line) for line in reference_lines]
    owner = [n for n, ref in enumerate(refs) for _ in ref]
    matched = [0] * len(refs)
    joined = "".join(refs)
    hyp = normalize_for_cer(text)
    for r, h in _alignment(joined, hyp):
        if r is not None and h is not None and joined[r] == hyp[h]:
            matched[owner[r]] += 1
    found = sum(
        1 for ref, m in zip(refs, matched, strict=True) if ref and m >= FOUND_SHARE * len(ref)
    )
    return found, sum(1 for ref in refs if ref)
