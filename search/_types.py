"""The plain values that cross the search package's public face, and its exceptions.

Exception tree::

    SearchError            the index cannot do what was asked (busy, unreadable, disk)
    └── QueryError         the user's search text cannot be searched; str(e) says why
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Literal

MatchKind = Literal["exact", "ocr", "shape", "sound"]


@dataclass(frozen=True)
class LetterDoc:
    """One letter as the index sees it: text plus the fields people search and filter by."""

    letter_id: int
    text: str
    reg_no: str = ""
    petitioners: tuple[str, ...] = ()
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    township: str = ""
    village: str = ""
    category: str = ""
    status: str = ""
    received: datetime.date | None = None
    case_id: int | None = None
    unit: str = ""  # 承办单位 of the letter's case
    # What the OCR was unsure of: (index of a character in ``text``, the characters it may
    # also be), e.g. ((3, "欠么"),) where text[3] was read 久. Indexed beside the reading, so
    # a search for 被欠 finds 被久 (ranked below exact matches).
    alternatives: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Hit:
    """One matching letter; ``snippet`` is HTML-safe, matches wrapped in ``<mark>``.

    ``match`` says how it matched: ``exact``; ``ocr`` (through the OCR's own alternative for a
    character), ``shape`` (a look-alike character the OCR may have read, 形近) or ``sound``
    (a same-sound character, 同音) — the tolerant matches, always ranked below every exact
    one, their spans in the snippet marked ``<mark class="tolerant">``. ``corrections`` pairs
    what the letter holds with what was searched ("被久 → 被欠"); :attr:`note` says it in a
    sentence for the clerk.
    """

    letter_id: int
    score: float
    snippet: str
    match: MatchKind = "exact"
    corrections: tuple[str, ...] = ()
    # more-like-this only: how alike the two letters are, 0..1, the same scale for every
    # letter (≥ 0.6 内容几乎相同, ≥ 0.12 内容相似; search._likeness), and why it is shown
    # ("内容几乎相同（83%）", "同一身份证号", "共同内容：征地补偿款、承包地").
    similarity: float | None = None
    reasons: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """Why a tolerant hit is shown, for the clerk ("识别可能有误：被久 → 被欠"); "" if exact."""
        if self.match == "exact":
            return ""
        label = {"ocr": "识别可能有误", "shape": "识别可能有误（形近字）", "sound": "同音字"}
        pairs = "；".join(self.corrections)
        return f"{label[self.match]}：{pairs}" if pairs else label[self.match]


@dataclass(frozen=True)
class Suggestion:
    """A search to offer when one found nothing: what to search, why, and how many it finds.

    ``kind``: ``tolerant`` (the word as the letters may hold it, or tolerance turned back on),
    ``shorter`` (fewer words, or a word cut short), ``dates`` (without the date range).
    ``query`` is the text to search and ``tolerant``/``dates`` say how to run it.
    """

    kind: Literal["tolerant", "shorter", "dates"]
    query: str
    label: str  # in Chinese, fit to show as the link text
    total: int
    tolerant: bool = True
    keep_dates: bool = True


@dataclass(frozen=True)
class SearchResult:
    """The hits of one search (best first) and how many letters matched in all."""

    query: str
    total: int
    hits: tuple[Hit, ...]
    # field -> {value -> letters among all matches}, for the fields asked for with ``facets=``;
    # values are the normalised keys (simplified characters, no spaces), most frequent first.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # True when total and facets are estimates: the PostgreSQL engine past 5,000 matches (a
    # page of hits is then exact names and numbers first, the rest newest first).
    estimated: bool = False
    # Letters among ``total`` that matched only tolerantly (their hits come after the exact).
    tolerant_total: int = 0
    # When nothing was found: other searches that find something, best first.
    suggestions: tuple[Suggestion, ...] = ()


class SearchError(Exception):
    """The index could not do what was asked; the message (in Chinese) is fit to show a clerk."""


class QueryError(SearchError):
    """The search text cannot be searched; the message (in Chinese) says what to change."""
