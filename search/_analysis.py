"""Chinese text analysis for the index: cleaning OCR text, folding, and n-gram tokens.

Pure functions, no engine. What the index sees of a letter is ``fold(clean_for_index(text))``
cut into tokens by :func:`tokens`; a query word goes through the same steps
(:func:`segments`), so whatever a clerk types matches what a letter contains, substring-exact:

* a run of Chinese characters becomes overlapping bigrams (枣树营村 -> 枣树 树营 营村), a run
  of one character stays itself; a word of three or more characters is a phrase query over
  consecutive bigrams;
* a run of digits and Latin letters (lowercased) becomes overlapping trigrams
  (13812345678 -> 138 381 812 ...), a run of one or two stays itself; so a phone or ID number
  is an exact phrase, and so is any part of one (the last digits of an ID, 尾号5678);
* edge tokens let a query begin or end in the middle of a run: ``<X`` / ``<XY`` mark the
  first one or two characters of a run and ``X>`` / ``XY>`` the last ones; a phrase cut at
  any character (家55亩承包, 73号楼楼顶, 份证号5115) is still found exactly, and no query
  ever expands a prefix inside a phrase (which whoosh cannot do over 1,024 terms);
* positions skip one at every separator (punctuation, spaces that remain), so a phrase never
  matches across a comma.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from opencc import OpenCC

EDGE_START = "<"
EDGE_END = ">"
MAX_WORD = 64  # a Latin/digit run longer than this is cut (no one searches for it)

_CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\U00020000-\U0003134f"
_RUN_RE = re.compile(rf"(?P<cjk>[{_CJK_RANGES}]+)|(?P<alnum>[^\W_{_CJK_RANGES}]+)")
_CJK_RE = re.compile(rf"[{_CJK_RANGES}]")
DASH_CLASS = "\\-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63"
_SEP = rf"[{DASH_CLASS} ]{{1,2}}"
_PHONE_RE = re.compile(rf"(?<!\d)1\d\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def is_cjk(ch: str) -> bool:
    """Tell a Chinese character from everything else (bigrams are made only of these)."""
    return bool(_CJK_RE.match(ch))


def _is_alnum(ch: str) -> bool:
    """Latin letters and digits (and other scripts' letters) form whole words."""
    return ch.isalnum() and not is_cjk(ch)


def clean_with_map(text: str) -> tuple[str, list[int]]:
    """Clean OCR text as :func:`clean_for_index` does, and say where each character came from.

    ``origin[i]`` is the index in ``text`` of cleaned character ``i``; snippets use it to mark
    a match found in the cleaned text on the text as written.
    """
    joined = text.translate(_CLEAN)  # looks up every character of the text in the table
    if not _resizes(text):  # each one cleaned into one: nothing moved
        origin = list(range(len(text)))
    else:
        joined, origin = _clean_resizing(text)
    drop = _inside_runs(joined)
    if drop:
        joined, origin = _without(joined, origin, drop)
    drop = set()
    for m in _PHONE_RE.finditer(joined):
        drop.update(m.start() + j for j, c in enumerate(m.group()) if not c.isdigit())
    if drop:
        joined, origin = _without(joined, origin, drop)
    return joined, origin


def _clean_resizing(text: str) -> tuple[str, list[int]]:
    """Clean a text where some character becomes none or several, keeping the map."""
    pieces: list[str] = []
    origin: list[int] = []
    start = 0
    for m in _changing().finditer(text):  # full-width punctuation, breaks, zero-width spaces
        i = m.start()
        pieces.append(text[start:i])
        origin.extend(range(start, i))
        out = _cleaned(text[i])
        pieces.append(out)
        origin.extend([i] * len(out))
        start = i + 1
    pieces.append(text[start:])
    origin.extend(range(start, len(text)))
    return "".join(pieces), origin


# Whitespace between two characters that may make runs (word characters: letters and digits,
# as str.isalnum, and Chinese): only such a space can be inside a run; _inside_runs decides.
_SPACES_RE = re.compile(rf"(?<=[\w{_CJK_RANGES}])\s+(?=[\w{_CJK_RANGES}])")


def _cleaned(ch: str) -> str:
    """One character as the index reads it: a break is a space, a control character nothing."""
    if ch in "\n\r\t":
        return " "
    if unicodedata.category(ch) in _DROP_CATEGORIES:
        return ""  # control characters, zero-width spaces, lone surrogates
    return unicodedata.normalize("NFKC", ch)


@cache
def _changing() -> re.Pattern[str]:
    """The characters cleaning changes, as one class of ranges (built once, on first use)."""
    ranges: list[list[int]] = []
    for c in range(sys.maxunicode + 1):
        if _cleaned(chr(c)) != chr(c):
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


class _CleanTable(dict[int, str]):
    """A str.translate table filled on demand: each character as :func:`_cleaned` gives it;
    the characters cleaned into none or several are also kept in ``_RESIZING``."""

    def __missing__(self, codepoint: int) -> str:
        out = _cleaned(chr(codepoint))
        if len(out) != 1:
            _RESIZING.add(chr(codepoint))
        self[codepoint] = out
        return out


_RESIZING: set[str] = set()


def _resizes(text: str) -> bool:
    """Whether the text holds a character cleaned into none or several (after it was
    translated: every character of it has been looked up, so the set knows them)."""
    if len(_RESIZING) < 64:  # usually a handful: a substring search each is faster
        return any(ch in text for ch in tuple(_RESIZING))  # a copy: other threads add to it
    return not _RESIZING.isdisjoint(text)


_CLEAN = _CleanTable()


def _without(joined: str, origin: list[int], drop: set[int]) -> tuple[str, list[int]]:
    """The text and its map less the characters at ``drop`` (few: cut between them)."""
    text: list[str] = []
    kept: list[int] = []
    start = 0
    for j in sorted(drop):
        text.append(joined[start:j])
        kept.extend(origin[start:j])
        start = j + 1
    text.append(joined[start:])
    kept.extend(origin[start:])
    return "".join(text), kept


def _inside_runs(joined: str) -> set[int]:
    """Whitespace that OCR put inside a run of Chinese or of digits: to be dropped."""
    drop: set[int] = set()
    for m in _SPACES_RE.finditer(joined):
        i, j = m.span()
        if i == 0 or j == len(joined):
            continue
        before, after = joined[i - 1], joined[j]
        cjk_b, cjk_a = is_cjk(before), is_cjk(after)
        if (
            (cjk_b and (cjk_a or _is_alnum(after)))
            or (cjk_a and _is_alnum(before))
            or (before.isdigit() and after.isdigit())
        ):
            drop.update(range(i, j))
    return drop


def folded_with_map(text: str) -> tuple[str, list[int]]:
    """The text as the index reads it (cleaned and folded), and where each character came
    from (as :func:`clean_with_map`)."""
    cleaned, origin = clean_with_map(text)
    return fold(cleaned), origin


def clean_for_index(text: str) -> str:
    """Return the text the index reads: NFKC, OCR's stray breaks and spaces removed, phones joined.

    Full-width digits and letters become half-width; line breaks and spaces inside a run of
    Chinese characters or of digits go (胡涛\\n超 -> 胡涛超, 138 1234 5678 -> 13812345678); a
    mobile number written 138-1234-5678 is joined; control and zero-width characters go.
    The text shown to people stays as written: this is only what is indexed.
    """
    return clean_with_map(text)[0]


@cache
def _converter() -> OpenCC:
    """Load OpenCC's traditional-to-simplified tables once, on first use."""
    return OpenCC("t2s")


class _FoldTable(dict[int, str]):
    """A str.translate table filled on demand: lowercase, traditional -> simplified per char."""

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        out = ch.lower()
        if len(out) != 1:
            out = ch
        if is_cjk(out):
            simplified = _converter().convert(out)
            if len(simplified) == 1:
                out = simplified
        self[codepoint] = out
        return out


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lowercase and fold traditional characters to simplified, one character for one.

    Character by character (not OpenCC's phrase tables) so that a query word folds exactly as
    the same characters inside a letter do, and offsets stay the same for highlighting.
    """
    return text.translate(_FOLD)


def normalize_key(value: str) -> str:
    """Normalise a name, place or status for an exact field: cleaned, folded, no spaces."""
    return "".join(fold(clean_for_index(value)).split())


def normalize_number(value: str) -> str:
    """Normalise a phone or ID number for an exact field: only its digits and letters."""
    return "".join(c for c in normalize_key(value) if _is_alnum(c))


@dataclass(frozen=True)
class Run:
    """A maximal run of Chinese characters, or of Latin letters and digits."""

    text: str
    cjk: bool


def segments(folded: str) -> list[list[Run]]:
    """Cut folded text into segments of adjacent runs; separators (punctuation...) end a segment."""
    out: list[list[Run]] = []
    end = -1
    for m in _RUN_RE.finditer(folded):
        run = Run(m.group(), m.lastgroup == "cjk")
        if m.start() == end and out:
            out[-1].append(run)
        else:
            out.append([run])
        end = m.end()
    return out


def gram_size(run: Run) -> int:
    """Chinese runs are cut in bigrams, Latin/digit runs in trigrams."""
    return 2 if run.cjk else 3


def grams(text: str, n: int) -> list[str]:
    """Overlapping n-character pieces; a run shorter than n stays whole."""
    if len(text) <= n:
        return [text]
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def bigrams(run: str) -> list[str]:
    """Overlapping two-character pieces of a Chinese run; a single character stays itself."""
    return grams(run, 2)


def start_edges(text: str, n: int) -> list[str]:
    """Edge tokens for the first 1..n-1 characters of a run (a query may end there)."""
    return [EDGE_START + text[:k] for k in range(1, min(n, len(text) + 1))]


def end_edges(text: str, n: int) -> list[str]:
    """Edge tokens for the last 1..n-1 characters of a run (a query may start there)."""
    return [text[-k:] + EDGE_END for k in range(1, min(n, len(text) + 1))]


def run_text(run: Run) -> str:
    """The indexed text of a run: Latin/digit runs are cut at MAX_WORD characters."""
    return run.text if run.cjk else run.text[:MAX_WORD]


def tokens(folded: str) -> Iterator[tuple[str, int]]:
    """Yield (token, position) for folded, cleaned text; see the module docstring."""
    pos = -1
    for segment in segments(folded):
        pos += 1  # one empty position between segments: no phrase crosses a separator
        for run in segment:
            pos += 1
            text = run_text(run)
            n = gram_size(run)
            pieces = grams(text, n)
            for edge in start_edges(text, n):
                yield edge, pos
            for k, piece in enumerate(pieces):
                yield piece, pos + k
            pos += len(pieces) - 1
            for edge in end_edges(text, n):
                yield edge, pos


def index_text(text: str) -> str:
    """The folded, cleaned text whose :func:`tokens` go into the index."""
    return fold(clean_for_index(text))
