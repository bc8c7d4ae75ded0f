"""User search text -> a safe, engine-neutral query plan (pure; no engine, no parser plugins).

Whatever a user types is turned into words, never handed to an engine's query language:

* space-separated words must all occur (AND); ``OR`` between two words makes either do;
  ``NOT word`` or ``-word`` leaves out letters that contain it; a stray ``AND`` is ignored;
* text in quotes ("..." “...” 「...」) is one word, its inner spaces treated like OCR's
  (拆迁 补偿 in quotes finds 拆迁补偿); an unbalanced quote is ignored;
* ``*``, ``?``, ``:``, brackets and other punctuation only separate words (no wildcards,
  no field syntax); control characters are dropped; over-long text is refused.

Each word becomes :class:`Word`: its content match (a list of :data:`Sequence`, all required),
the literal text to mark in snippets, and the keys for exact fields (name, phone, ID number).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from search._analysis import (
    DASH_CLASS,
    EDGE_END,
    EDGE_START,
    Run,
    clean_for_index,
    fold,
    gram_size,
    grams,
    normalize_key,
    normalize_number,
    run_text,
    segments,
)
from search._types import QueryError

MAX_QUERY_CHARS = 200
MAX_WORDS = 12

_QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d", "\u300e": "\u300f"}
_ALL_QUOTES = frozenset(_QUOTES) | frozenset(_QUOTES.values()) | {"\u201d", "\u201e"}
_NUMBER_GROUPS_RE = re.compile(rf"(?<![0-9A-Za-z])\d+(?:[ {DASH_CLASS}]\d+)+[Xx]?(?![0-9A-Za-z])")
_ID_RE = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE_RE = re.compile(r"1\d{10}")
_AND = frozenset({"AND", "&&", "&", "+"})
_OR = frozenset({"OR", "||", "|"})
_NOT = frozenset({"NOT", "!"})


@dataclass(frozen=True)
class Piece:
    """One way to match one token position: an exact term, or every term with a prefix."""

    kind: Literal["term", "prefix"]
    text: str


# Pieces at consecutive token positions. A "prefix" piece only ever stands alone: a prefix
# inside a phrase would need whoosh to expand it into spans, which fails past 1,024 terms.
Sequence = tuple[Piece, ...]


@dataclass(frozen=True)
class Word:
    """One query word: what to find in the text, and the keys for exact fields."""

    text: str  # as the user typed it (cleaned)
    sequences: tuple[Sequence, ...]  # all must match the letter text
    needles: tuple[str, ...]  # folded literal pieces to mark in snippets
    key: str  # normalised for exact name/place/registration-number fields
    number: str  # normalised digits/letters when it looks like a phone or ID number, else ""


@dataclass(frozen=True)
class Plan:
    """A parsed query: every group must match (a group is words joined by OR), none excluded."""

    groups: tuple[tuple[Word, ...], ...]
    excluded: tuple[Word, ...]

    @property
    def words(self) -> tuple[Word, ...]:
        """Every positive word, for highlighting."""
        return tuple(w for g in self.groups for w in g)

    @property
    def empty(self) -> bool:
        """True when there is nothing to look for (only filters can then select letters)."""
        return not self.groups


def _strip_controls(text: str) -> str:
    """Drop control, format and surrogate characters; tabs and line breaks become spaces."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\x0b\x0c":
            out.append(" ")
        elif cat not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    return "".join(out)


def _join_number_groups(text: str) -> str:
    """Join a phone or ID number typed in groups (138 1234 5678, 511521-1990...) into one word."""

    def join(m: re.Match[str]) -> str:
        digits = re.sub(rf"[ {DASH_CLASS}]", "", m.group())
        if _PHONE_RE.fullmatch(digits) or _ID_RE.fullmatch(digits):
            return digits
        return m.group()

    return _NUMBER_GROUPS_RE.sub(join, text)


def _split(text: str) -> list[tuple[str, bool]]:
    """Split into (word, quoted) pairs; quoted text is one word, unbalanced quotes ignored."""
    out: list[tuple[str, bool]] = []
    i = 0
    n = len(text)
    buf: list[str] = []

    def flush() -> None:
        out.extend((w, False) for w in "".join(buf).split())
        buf.clear()

    while i < n:
        ch = text[i]
        if ch in _QUOTES:
            close = text.find(_QUOTES[ch], i + 1)
            if close != -1:
                flush()
                inner = text[i + 1 : close]
                if inner.strip():
                    out.append((inner, True))
                i = close + 1
                continue
        if ch in _ALL_QUOTES:
            buf.append(" ")
        else:
            buf.append(ch)
        i += 1
    flush()
    return out


def _sequence(segment: list[Run]) -> Sequence:
    """Turn adjacent runs of a query word into token positions; open ends match mid-run.

    A piece at least as long as the run's n-gram is its n-grams: their positions alone say
    where runs begin and end. A shorter piece uses an edge token when it touches another run
    in the query (it must end or begin a run of the letter), the run itself when it is
    between two, and any token starting with it when it is the whole word.
    """
    positions: list[Piece] = []
    last_index = len(segment) - 1
    for i, run in enumerate(segment):
        first, last = i == 0, i == last_index
        text = run_text(run)
        n = gram_size(run)
        if len(text) >= n:
            positions.extend(Piece("term", g) for g in grams(text, n))
        elif first and last:
            positions.append(Piece("prefix", text))  # anywhere in a run
        elif first:
            positions.append(Piece("term", text + EDGE_END))  # ends a run
        elif last:
            positions.append(Piece("term", EDGE_START + text))  # begins a run
        else:
            positions.append(Piece("term", text))  # is a whole short run
    return tuple(positions)


def _word(raw: str) -> Word | None:
    """Analyse one query word exactly as letter text is analysed; None if nothing is left."""
    cleaned = clean_for_index(raw)
    folded = fold(cleaned)
    segs = segments(folded)
    if not segs:
        return None
    needles = tuple("".join(r.text for r in seg) for seg in segs)
    number = normalize_number(cleaned)
    if not (_PHONE_RE.fullmatch(number) or _ID_RE.fullmatch(number)):
        number = ""
    return Word(
        text=cleaned.strip(),
        sequences=tuple(_sequence(seg) for seg in segs),
        needles=needles,
        key=normalize_key(cleaned),
        number=number,
    )


def hanzi_word(text: str) -> Word:
    """A word of two or more Chinese characters that cleaning and folding leave as they are
    (a tolerant variant: a query word with one character replaced), built directly: the
    same Word :func:`word_of` gives, without analysing it again."""
    return Word(
        text=text,
        sequences=(tuple(Piece("term", g) for g in grams(text, 2)),),
        needles=(text,),
        key=text,
        number="",
    )


def word_of(raw: str) -> Word | None:
    """One word analysed as a query word is (tolerant search makes its variants with it)."""
    return _word(raw)


def parse(text: object) -> Plan:
    """Parse user search text into a :class:`Plan`; raise QueryError with a clear message."""
    if not isinstance(text, str):
        raise QueryError("搜索内容必须是文字。")
    text = _strip_controls(text).strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"搜索内容太长（{len(text)} 个字），请不超过 {MAX_QUERY_CHARS} 个字："
            "输入姓名、号码、地名或几个关键词即可。"
        )
    text = _join_number_groups(unicodedata.normalize("NFKC", text))
    groups: list[list[Word]] = []
    excluded: list[Word] = []
    join_next = negate_next = False
    for raw, quoted in _split(text):
        if not quoted:
            if raw in _AND:
                continue
            if raw in _OR:
                join_next = bool(groups)
                continue
            if raw in _NOT:
                negate_next = True
                continue
            if raw.startswith("-") and len(raw) > 1 and not raw[1].isdigit():
                raw, negate_next = raw[1:], True
            elif raw.startswith("+") and len(raw) > 1:
                raw = raw[1:]
        word = _word(raw)
        if word is None:
            continue  # only punctuation or symbols: nothing to search for
        if negate_next:
            excluded.append(word)
        elif join_next:
            groups[-1].append(word)
        else:
            groups.append([word])
        join_next = negate_next = False
    if len(groups) + len(excluded) > MAX_WORDS:
        raise QueryError(f"关键词太多，请不超过 {MAX_WORDS} 个。")
    if excluded and not groups:
        raise QueryError("请输入要查找的内容，不能只写要排除的词。")
    return Plan(tuple(tuple(g) for g in groups), tuple(excluded))


@dataclass(frozen=True)
class Filters:
    """Restrictions by exact field and date range (dates as ordinals), None for "any"."""

    township: str | None = None
    category: str | None = None
    status: str | None = None
    unit: str | None = None
    received_from: int | None = None
    received_to: int | None = None
    case_id: int | None = None
    petitioner: str | None = None  # exact name (normalised)
    id_number: str | None = None  # exact ID number (digits, lowercase x)
    phone: str | None = None  # exact phone number (digits)
    # letters of these cases are left out of hits, totals and facets alike: a reader's search
    # must not count what accuses it (《信访工作条例》 §30 ¶3); not a restriction to search by
    exclude_cases: tuple[int, ...] = ()

    def keys(self) -> list[tuple[str, str]]:
        """The exact-field restrictions as (field name, normalised key) pairs."""
        pairs = (
            ("township", self.township),
            ("category", self.category),
            ("status", self.status),
            ("unit", self.unit),
            ("petitioner", self.petitioner),
            ("id_number", self.id_number),
            ("phone", self.phone),
        )
        return [(name, key) for name, key in pairs if key is not None]

    @property
    def active(self) -> bool:
        """True when at least one restriction applies (an exclusion alone is none)."""
        return any(v is not None for k, v in vars(self).items() if k != "exclude_cases")


def _filter_key(name: str, value: object) -> str | None:
    """Normalise a filter value as the index does; blank means no filter."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(f"{name}筛选条件必须是文字。")
    return normalize_key(value) or None


def _filter_number(name: str, value: object) -> str | None:
    """Normalise a phone or ID number filter to its digits and letters; blank means none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(f"{name}筛选条件必须是文字。")
    return normalize_number(value) or None


def _filter_date(name: str, value: object) -> int | None:
    """A date filter as an ordinal; datetimes count by their date."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        raise QueryError(f"{name}必须是日期。")
    return value.toordinal()


def make_filters(
    *,
    township: object = None,
    category: object = None,
    status: object = None,
    unit: object = None,
    received_from: object = None,
    received_to: object = None,
    case_id: object = None,
    petitioner: object = None,
    id_number: object = None,
    phone: object = None,
    exclude_cases: object = (),
) -> Filters:
    """Check and normalise the search filters; raise QueryError with a clear message."""
    start = _filter_date("起始日期", received_from)
    end = _filter_date("截止日期", received_to)
    if start is not None and end is not None and start > end:
        raise QueryError("起始日期晚于截止日期。")
    if case_id is not None and (isinstance(case_id, bool) or not isinstance(case_id, int)):
        raise QueryError("信访事项筛选条件必须是编号。")
    if not isinstance(exclude_cases, list | tuple | set | frozenset) or any(
            isinstance(c, bool) or not isinstance(c, int) for c in exclude_cases):
        raise QueryError("要排除的信访事项必须是编号的列表。")
    return Filters(
        township=_filter_key("乡镇", township),
        category=_filter_key("类别", category),
        status=_filter_key("状态", status),
        unit=_filter_key("承办单位", unit),
        received_from=start,
        received_to=end,
        case_id=case_id,
        petitioner=_filter_key("姓名", petitioner),
        id_number=_filter_number("身份证号", id_number),
        phone=_filter_number("电话", phone),
        exclude_cases=tuple(sorted(set(exclude_cases))),
    )
