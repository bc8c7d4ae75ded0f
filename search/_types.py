"""The plain values that cross the search package's public face, and its exceptions.

Exception tree::

    SearchError            the index cannot do what was asked (busy, unreadable, disk)
    └── QueryError         the user's search text cannot be searched; str(e) says why
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class Hit:
    """One matching letter; ``snippet`` is HTML-safe, matches wrapped in ``<mark>``."""

    letter_id: int
    score: float
    snippet: str


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


class SearchError(Exception):
    """The index could not do what was asked; the message (in Chinese) is fit to show a clerk."""


class QueryError(SearchError):
    """The search text cannot be searched; the message (in Chinese) says what to change."""
