"""Script consistency: stray traditional characters on a page written in simplified.

PP-OCR's recogniser was trained on both scripts; on brush-like or blurred strokes it
sometimes answers with the traditional form of a simplified character (况 -> 況, 号 -> 號).
A page whose other characters are clearly simplified gets those forms mapped back, one
character at a time and only where the mapping is one-to-one both ways (so 乾/幹/干,
著/着 are never touched). Pages written in traditional script are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from ._types import Line

# Simplified must outnumber the stray traditional forms by this much, and appear this often.
MAJORITY = 2.0
MIN_SIMPLIFIED = 2


@cache
def _converters() -> tuple[Any, Any] | None:
    """OpenCC t2s and s2t converters, or None when opencc is not installed."""
    try:
        from opencc import OpenCC
    except ImportError:
        return None
    return OpenCC("t2s"), OpenCC("s2t")


@cache
def _classify(ch: str) -> tuple[str, str | None]:
    """("simp", None), ("trad", simplified form) or ("", None) for a character."""
    converters = _converters()
    if converters is None or not ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"):
        return "", None
    t2s, s2t = converters
    simplified = t2s.convert(ch)
    if simplified != ch and len(simplified) == 1 and s2t.convert(simplified) == ch:
        return "trad", simplified
    if s2t.convert(ch) != ch:
        return "simp", None
    return "", None


def to_simplified(text: str) -> str:
    """Map each one-to-one traditional character of ``text`` to its simplified form."""
    out = []
    for ch in text:
        kind, simplified = _classify(ch)
        out.append(simplified if kind == "trad" and simplified else ch)
    return "".join(out)


def is_mostly_simplified(text: str) -> bool:
    """True when simplified-only characters clearly outnumber traditional-only ones."""
    simp = trad = 0
    for ch in text:
        kind, _ = _classify(ch)
        simp += kind == "simp"
        trad += kind == "trad"
    return trad > 0 and simp >= MIN_SIMPLIFIED and simp >= MAJORITY * trad


def unify_script(lines: Sequence[Line]) -> tuple[Line, ...]:
    """The page's lines with stray traditional forms simplified, if the page is simplified."""
    if not is_mostly_simplified("".join(line.text for line in lines)):
        return tuple(lines)
    return tuple(_simplified_line(line) for line in lines)


def _simplified_line(line: Line) -> Line:
    """One line simplified, its characters' other readings too (never the character itself)."""
    text = to_simplified(line.text)
    alternatives = []
    for ch, alts in zip(text, line.alternatives, strict=False):
        seen = {ch}
        kept = []
        for alt, p in alts:
            alt = to_simplified(alt)
            if alt not in seen:
                seen.add(alt)
                kept.append((alt, p))
        alternatives.append(tuple(kept))
    return replace(line, text=text, alternatives=tuple(alternatives))
