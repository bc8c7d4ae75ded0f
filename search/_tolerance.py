"""Tolerant matching: the ways a word a clerk types may have been written wrong in a letter.

A letter keeps the text the OCR read, and a name taken down by phone is spelled by ear; a
query word that is one character off finds nothing exactly. Three tiers, tried after the exact
search and always ranked below it, in this order:

* ``ocr`` — the OCR's own alternatives for a character it was unsure of, indexed beside the
  reading at the same position as marked bigrams (``~被欠`` where the letter reads 被久, see
  :func:`alternative_tokens`); the query asks for the word with the bigrams around one
  character marked;
* ``shape`` — a look-alike character (形近) from ``confusable.tsv``, made offline from the OCR
  model itself (``scripts/build_confusables.py``: the recogniser's runner-up readings of
  rendered glyphs); the word with one character replaced by what the model might read;
* ``sound`` — a same-sound character (同音, pypinyin, tones ignored), for words of two to four
  characters (names and places); the word with one character replaced.

A replacement is only asked for when the bigrams it makes occur in the index at all (one
document-frequency lookup per word), so a tier costs nothing where the index cannot match it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from search._analysis import (
    clean_for_index,
    clean_with_map,
    fold,
    folded_with_map,
    gram_size,
    grams,
    is_cjk,
    run_text,
    segments,
)
from search._query import Piece, Plan, Word, hanzi_word, word_of

Match = Literal["exact", "ocr", "shape", "sound"]
Cleaned = tuple[str, list[int]]  # a text cleaned and folded, and where each character came from
TIERS: tuple[Match, ...] = ("ocr", "shape", "sound")
ALT_MARK = "~"  # a bigram made with an OCR alternative (never produced by text analysis)
TABLE = Path(__file__).with_name("confusable.tsv")
MIN_WORD = 2  # a single character has too many neighbours to be worth it
MAX_WORD = 12
MAX_SOUND_WORD = 4  # same-sound replacements only for names and places
MAX_SHAPE_PER_CHAR = 6
MAX_SOUND_PER_CHAR = 40
MAX_VARIANTS = 48  # per word and tier, after the index said which can match
CANDIDATES_KEPT = 4096  # (word, tier) expansions remembered: a word searched again is not redone

NOTES: dict[str, str] = {
    "ocr": "识别可能有误",
    "shape": "识别可能有误（形近字）",
    "sound": "同音字",
}


@dataclass(frozen=True)
class Variant:
    """One way the letter may hold a query word: which character, read as what."""

    word: Word  # what to search for
    meant: str  # the query word (folded)
    at: int  # index of the replaced character in ``meant``
    written: str  # what the letter holds there ("" for an OCR alternative: found in the text)
    tier: Match


# -- the tables -----------------------------------------------------------------------------


def prepare() -> None:
    """Load the look-alike and same-sound tables now (~0.4 s), not on a user's first search."""
    look_alikes()
    _by_sound()


@cache
def look_alikes() -> dict[str, tuple[str, ...]]:
    """Character -> the characters the OCR model may read for it, likeliest first."""
    table: dict[str, tuple[str, ...]] = {}
    if not TABLE.is_file():
        return table
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        ch, _, alts = line.partition("\t")
        table[ch] = tuple(a.partition(":")[0] for a in alts.split())[:MAX_SHAPE_PER_CHAR]
    return table


@cache
def _common_chars() -> tuple[str, ...]:
    """The GB2312 hanzi, level 1 (common) first: the characters a name is written with."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = bytes((hi, lo)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if is_cjk(ch):
                out.append(ch)
    return tuple(out)


@cache
def _by_sound() -> dict[str, tuple[str, ...]]:
    """Toneless pinyin -> the common characters read that way (pypinyin, first reading)."""
    from pypinyin import Style, lazy_pinyin

    chars = _common_chars()
    readings = lazy_pinyin(list(chars), style=Style.NORMAL, errors="ignore")
    table: dict[str, list[str]] = {}
    for ch, reading in zip(chars, readings, strict=False):
        table.setdefault(reading, []).append(ch)
    return {k: tuple(v) for k, v in table.items()}


@cache
def same_sound(ch: str) -> tuple[str, ...]:
    """Characters read like ``ch`` (any tone, any of its readings), common ones first."""
    from pypinyin import Style, pinyin

    out: list[str] = []
    for reading in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]:
        out.extend(c for c in _by_sound().get(reading, ()) if c != ch and c not in out)
    return tuple(out[:MAX_SOUND_PER_CHAR])


# -- the index side: OCR alternatives --------------------------------------------------------


def _bigram_starts(folded: str) -> dict[int, int]:
    """Index of a Chinese character -> token position of the bigram that starts there.

    Mirrors :func:`search._analysis.tokens`: one empty position between segments, a run's
    n-grams at consecutive positions.
    """
    out: dict[int, int] = {}
    pos = -1
    offset = 0
    for segment in segments(folded):
        pos += 1
        for run in segment:
            pos += 1
            start = folded.index(run.text, offset)
            offset = start + len(run.text)
            if run.cjk:
                for k in range(len(run.text) - 1):
                    out[start + k] = pos + k
            pos += len(grams(run_text(run), gram_size(run))) - 1
    return out


def alternative_tokens(
    text: str, alternatives: Sequence[tuple[int, str]]
) -> list[tuple[str, int]]:
    """Marked bigrams for the OCR's alternatives of characters of ``text`` (as written).

    ``alternatives`` holds (index in ``text``, alternative characters). For a character at
    ``i`` read ``c`` with alternative ``a``, the bigrams that hold it are added again with
    ``a`` in place of ``c``, marked, at the same positions: ``~`` + text[i-1] + a and
    ``~`` + a + text[i+1]. Only characters inside a run of two or more Chinese characters.
    """
    if not alternatives:
        return []
    cleaned, origin = clean_with_map(text)
    folded = fold(cleaned)
    where = {o: i for i, o in enumerate(origin)}
    starts = _bigram_starts(folded)
    out: list[tuple[str, int]] = []
    for index, chars in alternatives:
        i = where.get(index)
        if i is None or not is_cjk(folded[i]):
            continue
        for alt in dict.fromkeys(fold(chars)):
            if not is_cjk(alt) or alt == folded[i]:
                continue
            if i - 1 in starts:
                out.append((ALT_MARK + folded[i - 1] + alt, starts[i - 1]))
            if i in starts:
                out.append((ALT_MARK + alt + folded[i + 1], starts[i]))
    return sorted(set(out), key=lambda tp: (tp[1], tp[0]))


# -- the query side ---------------------------------------------------------------------------


def _plain(word: Word) -> str | None:
    """The word's folded text when it is one run of Chinese characters that tolerance fits."""
    if len(word.needles) != 1:
        return None
    text = word.needles[0]
    if not (MIN_WORD <= len(text) <= MAX_WORD) or not all(is_cjk(c) for c in text):
        return None
    return text


def _marked(text: str, at: int) -> Word:
    """The word with the bigrams around character ``at`` marked as OCR alternatives."""
    pieces = []
    for k in range(len(text) - 1):
        gram = text[k : k + 2]
        pieces.append(Piece("term", ALT_MARK + gram if k in (at - 1, at) else gram))
    return Word(text=text, sequences=(tuple(pieces),), needles=(), key="", number="")


def _new_grams(text: str, at: int) -> list[str]:
    """The bigrams of ``text`` that hold character ``at``."""
    return [text[k : k + 2] for k in (at - 1, at) if 0 <= k < len(text) - 1]


@cache
def _steady(ch: str) -> bool:
    """A Chinese character that cleaning and folding leave as it is."""
    return is_cjk(ch) and clean_for_index(ch) == ch and fold(ch) == ch


@lru_cache(maxsize=CANDIDATES_KEPT)
def _candidates(word: Word, tier: Match) -> tuple[tuple[Variant, tuple[str, ...]], ...]:
    """Every way of one tier the letter may hold ``word``, with the bigrams each one makes
    (the index then says which it can match). Depends on the word and the tables only."""
    text = _plain(word)
    if text is None or tier == "exact":
        return ()
    candidates: list[tuple[Variant, tuple[str, ...]]] = []
    if tier == "ocr":
        for at in range(len(text)):
            grams = tuple(ALT_MARK + g for g in _new_grams(text, at))
            candidates.append((Variant(_marked(text, at), text, at, "", "ocr"), grams))
        return tuple(candidates)
    if tier == "sound" and len(text) > MAX_SOUND_WORD:
        return ()
    table = look_alikes() if tier == "shape" else None
    steady = all(_steady(c) for c in text)
    for at, ch in enumerate(text):
        others = table.get(ch, ()) if table is not None else same_sound(ch)
        for other in others:
            if fold(other) == ch:
                continue  # a traditional form: the index folds it to this character
            changed = text[:at] + other + text[at + 1 :]
            made = hanzi_word(changed) if steady and _steady(other) else word_of(changed)
            if made is None:
                continue
            candidates.append(
                (Variant(made, text, at, other, tier), tuple(_new_grams(changed, at)))
            )
    return tuple(candidates)


def variants_by_tier(
    words: Sequence[Word], doc_freqs: Callable[[list[str]], list[int]]
) -> dict[Match, dict[Word, list[Variant]]]:
    """For each tier, the variants of each word that the index can match at all: those whose
    every new bigram occurs in it (one document-frequency lookup for every tier and word)."""
    found = {(w, tier): _candidates(w, tier) for tier in TIERS for w in dict.fromkeys(words)}
    grams = sorted({g for candidates in found.values() for _, gs in candidates for g in gs})
    if not grams:
        return {}
    present = {g for g, n in zip(grams, doc_freqs(grams), strict=True) if n > 0}
    out: dict[Match, dict[Word, list[Variant]]] = {}
    for (word, tier), candidates in found.items():
        kept: dict[Word, Variant] = {}
        for v, gs in candidates:
            if gs and all(g in present for g in gs):
                kept.setdefault(v.word, v)
        if kept:
            out.setdefault(tier, {})[word] = list(kept.values())[:MAX_VARIANTS]
    return {tier: out[tier] for tier in TIERS if tier in out}


def tier_plan(plan: Plan, found: dict[Word, list[Variant]]) -> Plan | None:
    """The plan with each word's variants as alternatives to it; None when none has any."""
    if not any(found.get(w) for w in plan.words):
        return None
    groups = tuple(
        tuple(w for word in group for w in (word, *(v.word for v in found.get(word, ()))))
        for group in plan.groups
    )
    return Plan(groups, plan.excluded)


def tolerant_only(plan: Plan, found: dict[Word, list[Variant]]) -> list[Plan]:
    """Plans that together find exactly the letters the plan with these variants finds and
    the plan alone does not, each letter by one plan: by the first group a letter does not
    match as written, it holds a variant of that group (and none of its words), every group
    before as written, every group after either way. Counting them never runs the exact
    search again (the letters it finds are excluded, not counted)."""
    def either(group: tuple[Word, ...]) -> tuple[Word, ...]:
        return tuple(w for word in group for w in (word, *(v.word for v in found.get(word, ()))))

    out = []
    for i, group in enumerate(plan.groups):
        variant_words = tuple(v.word for word in group for v in found.get(word, ()))
        if variant_words:
            groups = (*plan.groups[:i], variant_words, *map(either, plan.groups[i + 1 :]))
            out.append(Plan(groups, (*plan.excluded, *group)))
    return out


# -- what a tolerant hit matched -------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """Where a letter holds a query word one character off: what it reads, what was meant."""

    written: str  # as the letter holds it (folded)
    meant: str
    start: int  # span in the text as written
    end: int


def shown(meant: str, written: str, at: int) -> tuple[str, str]:
    """The pair a clerk reads: a name or short word whole, a longer one by the two characters
    around the change (个人被欠 read 个人被久: 被久 → 被欠)."""
    if len(meant) <= 3:
        return written, meant
    k = max(0, at - 1)
    return written[k : k + 2], meant[k : k + 2]


def corrections(
    text: str, found: Sequence[Variant], mapped: Cleaned | None = None
) -> list[Correction]:
    """The variants a letter's text holds, each once, with their spans in the text as written
    (``mapped``: the text's :func:`folded_with_map`, when the caller has it already)."""
    folded, origin = mapped or folded_with_map(text)
    out: list[Correction] = []
    seen: set[tuple[str, str]] = set()
    for v in found:
        if v.written:
            patterns = [(v.at, re.escape(v.meant[: v.at] + v.written + v.meant[v.at + 1 :]))]
        else:  # an OCR alternative: the letter holds anything at one place
            patterns = [
                (at, re.escape(v.meant[:at]) + r"[^\W\d_]" + re.escape(v.meant[at + 1 :]))
                for at in range(len(v.meant))
            ]
        for at, pattern in patterns:
            m = next((m for m in re.finditer(pattern, folded) if m.group() != v.meant), None)
            if m is None:
                continue
            written, meant = shown(v.meant, m.group(), at)
            if (written, meant) not in seen:
                seen.add((written, meant))
                out.append(Correction(written, meant, origin[m.start()], origin[m.end() - 1] + 1))
            break
    return out
