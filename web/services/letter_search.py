"""Finding letters for a user: full-text search within the user's scope, audited.

One rule for the page, the API and the command line: a handler finds the letters of its unit
and the units below it (access.SignedIn.unit_ids), searched one unit at a time so that totals
and facets count only its own; the letters of the cases accusing the reader (SignedIn.hidden,
§30 ¶3) are left out by the index itself, so that no total, facet or suggestion counts them;
every hit is checked again against letter_scope; which letters a result showed is audited,
since snippets are the letters' own words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

import search
from records import Case, Letter, Unit, audit
from records.privacy import mask_personal
from web.services.access import SignedIn, letter_scope, may_see_case, may_see_letter
from web.services.dates import DateError, parse_day
from web.services.instance import Instance

FILTERS = ("township", "category", "status", "unit", "from", "to")
CASE_NO = re.compile(r"XF-\d{4}-\d{6}")
REG_NO = re.compile(r"\d{4}-\d{6}")
DEEPEST = 2000  # hits past this are not paged to: narrow the search


@dataclass(frozen=True)
class Found:
    """One page of hits the reader may see, with the total and facets of the whole search."""

    query: str
    total: int
    hits: list[search.Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    estimated: bool = False
    suggestions: tuple[search.Suggestion, ...] = ()  # when nothing was found: what to try


def parse_filters(form: Mapping[str, str | None]) -> dict[str, Any]:
    """The search filters from a form or query string; a bad date is a QueryError to show."""
    out: dict[str, Any] = {k: (form.get(k) or "").strip()[:64] or None
                           for k in ("township", "category", "status", "unit")}
    for name, key in (("from", "received_from"), ("to", "received_to")):
        text = (form.get(name) or "").strip()
        if text:
            try:
                out[key] = parse_day(text)
            except DateError as e:
                raise search.QueryError(str(e)) from None
    return out


def visible_units(instance: Instance, reader: SignedIn) -> list[str] | None:
    """The unit names whose letters this reader finds; None: every letter."""
    if reader.unit_ids is None:
        return None
    if reader.unit_ids == {reader.unit_id} and reader.unit_name:
        return [reader.unit_name]
    if not reader.unit_ids:
        return []
    with instance.db.session() as session:
        return list(session.scalars(select(Unit.name).where(Unit.id.in_(reader.unit_ids))))


def search_letters(instance: Instance, reader: SignedIn, query: str, filters: dict[str, Any],
                   *, sort: str = "relevance", offset: int = 0, limit: int = 20,
                   tolerant: bool = True, via: str = "page") -> Found:
    """Hits offset..offset+limit within the reader's scope; raises search.SearchError.

    With ``tolerant`` (the default) letters whose OCR misread a character, or whose name was
    written by ear, follow every exact hit, each saying how it matched (search's tolerance)."""
    sort = "date" if sort == "date" else "relevance"
    offset = min(max(offset, 0), DEEPEST - limit)
    index = instance.index
    units = visible_units(instance, reader)
    filters = {**filters, "exclude_cases": sorted(reader.hidden)}
    if units is None:
        result = index.search(query, limit=offset + limit, sort=sort,  # type: ignore[arg-type]
                              facets=True, offset=offset, tolerant=tolerant, **filters)
        found = Found(query, result.total, list(result.hits), result.facets, result.estimated,
                      result.suggestions)
    else:
        found = _search_units(instance, query, {**filters, "tolerant": tolerant}, units, sort,
                              offset, limit)
    shown = _visible(instance, reader, [h.letter_id for h in found.hits])
    hits = [h for h in found.hits if h.letter_id in shown]
    record_shown(instance, reader, query, [h.letter_id for h in hits],
                 via=None if via == "page" else via,
                 form={k: str(v) for k, v in filters.items() if v and k != "exclude_cases"})
    # a hit the guard refused (an index not yet in step with a case) is not counted either
    total = max(found.total - (len(found.hits) - len(hits)), len(hits))
    return Found(query, total, hits, found.facets, found.estimated, found.suggestions)


def opened_by_number(instance: Instance, reader: SignedIn, text: str) -> tuple[str, int] | None:
    """A case number (XF-2026-000001) or a registration number (2026-000001) typed in the
    search box names one record: ("case", id) or ("letter", id) when the reader may see it."""
    typed = text.strip().upper()
    if CASE_NO.fullmatch(typed):
        with instance.db.session() as session:
            case = session.scalars(select(Case).where(Case.case_no == typed)).first()
            return ("case", case.id) if case is not None and may_see_case(reader, case) else None
    if REG_NO.fullmatch(typed):
        with instance.db.session() as session:
            letter = session.scalars(select(Letter).where(Letter.reg_no == typed)).first()
            return ("letter", letter.id) if letter is not None and may_see_letter(
                reader, letter) else None
    return None


def record_shown(instance: Instance, reader: SignedIn, query: str, letter_ids: list[int],
                 **detail: Any) -> None:
    """Audit which letters a result showed (a search, more like this, one person's letters)."""
    with instance.db.session() as session:
        audit.record(session, reader.username, "search", "letter", None,
                     query=mask_personal(query), letters=letter_ids,
                     **{k: v for k, v in detail.items() if v})


def _search_units(instance: Instance, query: str, filters: dict[str, Any], units: list[str],
                  sort: str, offset: int, limit: int) -> Found:
    """A handler's search: one per visible unit (usually one), merged."""
    index = instance.index
    if filters.get("unit"):
        units = [u for u in units if _key(u) == _key(filters["unit"])]
    if not units:
        index.search(query, limit=1, **filters)  # still tell the user about bad search text
        return Found(query, 0, [])
    results = [index.search(query, limit=offset + limit, sort=sort,  # type: ignore[arg-type]
                            facets=True, **{**filters, "unit": u}) for u in units]
    facets: dict[str, dict[str, int]] = {}
    for r in results:
        for name, counts in r.facets.items():
            merged = facets.setdefault(name, {})
            for value, n in counts.items():
                merged[value] = merged.get(value, 0) + n
    hits = [h for r in results for h in r.hits]
    if len(results) > 1:
        if sort == "date":
            dates = _received(instance, (h.letter_id for h in hits))
            hits.sort(key=lambda h: (dates.get(h.letter_id, dt.date.min), h.letter_id),
                      reverse=True)
        else:
            hits.sort(key=lambda h: -h.score)
        facets = {name: dict(sorted(c.items(), key=lambda kv: -kv[1]))
                  for name, c in facets.items()}
    return Found(query, sum(r.total for r in results), hits[offset:offset + limit], facets,
                 any(r.estimated for r in results),
                 next((r.suggestions for r in results if r.suggestions), ()))


def _visible(instance: Instance, reader: SignedIn, letter_ids: list[int]) -> set[int]:
    """The guard behind the index: of these letters, those the reader may see."""
    if not letter_ids:
        return set()
    with instance.db.session() as session:
        return set(session.scalars(select(Letter.id).where(
            Letter.id.in_(letter_ids), letter_scope(reader))))


def _received(instance: Instance, letter_ids: Iterable[int]) -> dict[int, dt.date]:
    """Receipt dates, to merge several units' hits newest first."""
    with instance.db.session() as session:
        return {i: day for i, day in session.execute(select(Letter.id, Letter.received_on).where(
            Letter.id.in_(list(letter_ids))))}


def _key(value: str) -> str:
    """A unit name as the index compares it (cleaned, without spaces)."""
    return "".join(search.clean_for_index(value).split())
