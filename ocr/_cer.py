"""Character error rate, the one accuracy figure the project quotes for OCR."""

from __future__ import annotations

import unicodedata

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
