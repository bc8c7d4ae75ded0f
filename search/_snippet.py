"""Highlighted snippets cut from the letter as written (pure; no engine).

Matches are found in the cleaned, folded text, where the index found them (胡涛\\n超 and
138-1234-5678 match 胡涛超 and 13812345678), and mapped back to the original characters, so
the snippet shows what the clerk sees on the page, escaped for HTML, with ``<mark>`` around
each match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from search._analysis import folded_with_map

WIDTH = 100  # characters of original text in a snippet
LEAD = 24  # how much context to keep before the first match
MAX_MATCHES = 200  # per needle; more gives no better snippet

_SENTENCE_END = "。！？；!?;\n"
_WHITESPACE_RE = re.compile(r"\s+")
# A line break beside a Chinese character, or inside a number, is where the writer ran out of
# paper: no space there.
_WRAP_RE = re.compile(
    r"(?<=[^\x00-\x7f])[ \t]*\n\s*|\s*\n[ \t]*(?=[^\x00-\x7f])|(?<=[0-9])\n(?=[0-9])"
)
_UNSAFE_RE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _spans(
    text: str, needles: Iterable[str], mapped: tuple[str, list[int]] | None = None
) -> list[tuple[int, int, int]]:
    """Find every needle in the cleaned, folded text; return (start, end, needle#) on ``text``."""
    folded, origin = mapped or folded_with_map(text)
    found: list[tuple[int, int, int]] = []
    for k, needle in enumerate(dict.fromkeys(n for n in needles if n)):
        start = folded.find(needle)
        count = 0
        while start != -1 and count < MAX_MATCHES:
            end = start + len(needle)
            found.append((origin[start], origin[end - 1] + 1, k))
            start = folded.find(needle, end)
            count += 1
    found.sort()
    return found


def _merge(spans: list[tuple[int, int, int]], tolerant: int) -> list[tuple[int, int, bool]]:
    """Merge overlapping or touching spans into one mark each; a mark is tolerant when all
    its spans are (needle number ``tolerant`` and above)."""
    merged: list[tuple[int, int, bool]] = []
    for start, end, k in spans:
        if merged and start <= merged[-1][1]:
            a, b, t = merged[-1]
            merged[-1] = (a, max(b, end), t and k >= tolerant)
        else:
            merged.append((start, end, k >= tolerant))
    return merged


def _window(text: str, spans: list[tuple[int, int, int]], width: int) -> tuple[int, int]:
    """Choose the stretch of ``width`` characters that shows the most different matches."""
    if not spans:
        return 0, min(len(text), width)
    best_start, best_score = spans[0][0], -1.0
    for i, (start, _, _) in enumerate(spans[:MAX_MATCHES]):
        needles: set[int] = set()
        count = 0
        for s_start, s_end, needle in spans[i:]:
            if s_start > start + width:
                break  # spans are sorted by start
            if s_end <= start + width:
                needles.add(needle)
                count += 1
        score = len(needles) + 0.01 * count  # different words first, then more matches
        if score > best_score:
            best_start, best_score = start, score
    lo = max(0, best_start - LEAD)
    cut = max(text.rfind(ch, lo, best_start) for ch in _SENTENCE_END)
    begin = cut + 1 if cut != -1 else lo
    if begin > best_start:
        begin = best_start
    end = min(len(text), begin + width)
    return begin, end


def _show(piece: str) -> str:
    """Escape for HTML and flatten line breaks; drop characters a page cannot show."""
    joined = _WRAP_RE.sub("", _UNSAFE_RE.sub("", piece))
    return html.escape(_WHITESPACE_RE.sub(" ", joined), quote=True)


def snippet(
    text: str,
    needles: Iterable[str],
    *,
    width: int = WIDTH,
    tolerant: Sequence[tuple[int, int]] = (),
    mapped: tuple[str, list[int]] | None = None,
) -> str:
    """Return an HTML-safe fragment of ``text`` around the matches, each in ``<mark>``.

    ``tolerant`` spans (on ``text``: where a letter holds a word one character off) are
    marked ``<mark class="tolerant">`` and count for the choice of the window like a match.
    ``mapped`` is ``folded_with_map(text)`` when the caller has it already.
    """
    spans = _spans(text, needles, mapped)
    first = 1 + max((k for _, _, k in spans), default=-1)
    spans += [(a, b, first + j) for j, (a, b) in enumerate(tolerant) if 0 <= a < b <= len(text)]
    spans.sort()
    begin, end = _window(text, spans, width)
    parts: list[str] = ["…"] if begin > 0 else []
    cursor = begin
    for start, stop, fuzzy in _merge(spans, first):
        start, stop = max(start, begin), min(stop, end)
        if start >= stop:
            continue
        parts.append(_show(text[cursor:start]))
        tag = '<mark class="tolerant">' if fuzzy else "<mark>"
        parts.append(f"{tag}{_show(text[start:stop])}</mark>")
        cursor = stop
    parts.append(_show(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts).strip()
