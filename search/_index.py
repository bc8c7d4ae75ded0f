"""LetterIndex: the package's one entry point, engine-neutral.

It validates and analyses letters (:mod:`search._schema`), parses user text
(:mod:`search._query`), cuts snippets (:mod:`search._snippet`) and leaves storage and matching to
an :class:`Engine`; a second engine is a new module implementing that protocol.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from types import TracebackType

from search._analysis import EDGE_END, EDGE_START, folded_with_map, index_text, tokens
from search._engine import DEFAULT_ENGINE, Engine, EngineName, Found, Sort, open_engine
from search._likeness import band, bigrams_of, likeness, shared_phrases, weights
from search._query import Filters, Plan, Word, make_filters, parse, word_of
from search._schema import CONTENT_VERSION, FACET_FIELDS, to_record
from search._snippet import snippet
from search._tolerance import (
    Cleaned,
    Correction,
    Match,
    Variant,
    corrections,
    tier_plan,
    tolerant_only,
    variants_by_tier,
)
from search._types import Hit, LetterDoc, QueryError, SearchError, SearchResult, Suggestion

DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for another writer to finish
MAX_LIMIT = 100_000
SIMILAR_TERMS = 25  # the most telling pieces of a letter that more-like-this looks for
SIMILAR_CANDIDATES = 300  # pieces of the letter whose document frequency is looked up
SIMILAR_MAX_SHARE = 0.3  # pieces in more than this share of letters say nothing
SIMILAR_MIN_MATCH = 0.3  # share of the chosen pieces a similar letter must contain
SIMILAR_PERSON_BOOST = 3.0  # the same name, ID number or phone counts like this many pieces
PERSON_REASONS = {"petitioner": "同一信访人姓名", "id_number": "同一身份证号", "phone": "同一电话"}
MAX_SUGGESTIONS = 5
SUGGEST_EACH = 2  # variants of a word offered as searches of their own
SHORTER_FROM = 4  # a single word this long is also tried a character shorter


class LetterIndex:
    """The full-text index of letters: upsert, delete, search with highlighted snippets."""

    def __init__(self, engine: Engine, *, engine_name: str = "") -> None:
        self._engine = engine
        self._closed = False
        self.engine_name = engine_name

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        engine: EngineName = DEFAULT_ENGINE,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> LetterIndex:
        """Open the index in ``path``, creating the directory and an empty index if missing.

        ``engine`` is ``"tantivy"`` (the default) or ``"whoosh"``, each keeping its own files
        in the folder ``path``, or ``"postgres"``, for which ``path`` is a database URL
        (``postgresql://user@host/db``, SQLAlchemy's ``postgresql+psycopg://`` too; the
        table goes in schema ``search`` unless the URL adds ``?schema=name``).
        ``lock_timeout`` is how long add/delete/clear wait for another writer before raising
        SearchError. If the location holds an index built by an older version of the
        analysis, a new empty one is started and :attr:`needs_reindex` is True.
        """
        return cls(open_engine(engine, path, lock_timeout=lock_timeout), engine_name=engine)

    @classmethod
    def create(
        cls,
        path: Path | str,
        *,
        engine: EngineName = DEFAULT_ENGINE,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> LetterIndex:
        """Start an empty index in ``path``, discarding any index there (even an unreadable one)."""
        opened = open_engine(engine, path, lock_timeout=lock_timeout, fresh=True)
        return cls(opened, engine_name=engine)

    @property
    def needs_reindex(self) -> bool:
        """True when this index is empty but one built by an older version lies beside it."""
        return self._engine.needs_reindex

    @property
    def content_version(self) -> int:
        """What this index holds of its letters: :data:`CONTENT_VERSION` when written by this
        version; less when written before (e.g. 1: without the OCR's alternatives). The caller
        then adds again the letters the newer content changes, and calls
        :meth:`mark_content_version`; searching works meanwhile."""
        self._check_open()
        return self._engine.content_version()

    def mark_content_version(self, version: int = CONTENT_VERSION) -> None:
        """Record that every letter of the index now holds the content of ``version``."""
        self._check_open()
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise SearchError(f"内容版本必须是正整数，而不是 {version!r}。")
        self._engine.set_content_version(version)

    def _check_open(self) -> None:
        """Refuse to work after close()."""
        if self._closed:
            raise SearchError("搜索索引已关闭。")

    def add(self, docs: Iterable[LetterDoc]) -> int:
        """Index letters, replacing any with the same letter_id; return how many were indexed.

        All of them in one commit, made only if every letter was indexed: on any error nothing
        is saved and the error is raised (a malformed LetterDoc raises SearchError). Waits for
        another writer up to ``lock_timeout`` seconds, then raises SearchError. The documents
        are read while the writer lock is held: for a large reindex, pass batches of a few
        thousand letters (each batch is then one commit, and the work can resume).
        """
        self._check_open()
        return self._engine.add(to_record(doc) for doc in docs)

    def delete(self, letter_ids: Iterable[int]) -> int:
        """Remove letters by id, in one commit; return how many were in the index."""
        self._check_open()
        ids = list(letter_ids)
        for letter_id in ids:
            if isinstance(letter_id, bool) or not isinstance(letter_id, int):
                raise SearchError(f"来信编号 letter_id 必须是整数，而不是 {letter_id!r}。")
        if not ids:
            return 0
        return self._engine.delete(ids)

    def clear(self) -> None:
        """Remove every letter (to rebuild the index from the database)."""
        self._check_open()
        self._engine.clear()

    def letter_ids(self) -> set[int]:
        """Every letter id in the index, to compare with the database."""
        self._check_open()
        return self._engine.letter_ids()

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        township: str | None = None,
        category: str | None = None,
        status: str | None = None,
        unit: str | None = None,
        received_from: datetime.date | None = None,
        received_to: datetime.date | None = None,
        case_id: int | None = None,
        sort: Sort = "relevance",
        facets: bool | Sequence[str] = False,
        exclude_cases: Collection[int] = (),
        snippets: bool = True,
        offset: int = 0,
        tolerant: bool = True,
    ) -> SearchResult:
        """Search letters: every space-separated word must occur (no wildcards needed).

        Names, numbers, villages, topics and phrases are matched as written, whether in
        traditional or simplified characters; an exact petitioner name ranks first. With an
        empty query and at least one filter, the filtered letters come newest first.
        ``sort="date"`` orders newest first; ``facets=True`` (or a list of field names among
        township, category, status, unit) counts the values of those fields over all matches
        into :attr:`SearchResult.facets`; ``snippets=False`` leaves every snippet empty
        (for callers that only need ids: evaluation, exports); ``offset`` skips the first
        hits (a deep page reads and cuts snippets only for its own). ``exclude_cases``
        leaves the letters of those cases out of the hits, the total and the facets alike (a
        reader the cases accuse, §30 ¶3). Raises QueryError (a message for the user) for
        text or filters that cannot be searched.

        With ``tolerant`` (the default) a word of Chinese characters also finds letters holding
        it one character off — through the OCR's alternatives, a look-alike character the OCR
        may have read, or (names and places) a same-sound character — after every exact match,
        each such hit saying how it matched (:attr:`Hit.match`, :attr:`Hit.note`). A search
        that finds nothing comes with :attr:`SearchResult.suggestions`.
        """
        self._check_open()
        limit = _check_limit(limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise QueryError("起始位置必须是不小于零的整数。")
        plan = parse(query)
        filters = make_filters(
            township=township,
            category=category,
            status=status,
            unit=unit,
            received_from=received_from,
            received_to=received_to,
            case_id=case_id,
            exclude_cases=tuple(exclude_cases),
        )
        if plan.empty and not filters.active:
            raise QueryError("请输入姓名、身份证号、电话号码、地名或几个关键词再搜索。")
        with self._engine.pinned():
            result = self._run(query, plan, filters, limit, sort=sort, facets=facets,
                               snippets=snippets, offset=offset, tolerant=tolerant)
            if result.total == 0 and not plan.empty:
                suggestions = self._suggest(plan, filters, tolerant)
                result = dataclasses.replace(result, suggestions=suggestions)
        return result

    def letters_from(
        self,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        name: str | None = None,
        township: str | None = None,
        limit: int = 100,
        facets: bool | Sequence[str] = False,
    ) -> SearchResult:
        """All letters from one person, newest first: by ID number, by phone, or by name.

        Matches the letters' exact fields (the petitioners named on the letter and the numbers
        registered or found in it); ``township`` narrows a name, since names repeat.
        """
        self._check_open()
        limit = _check_limit(limit)
        filters = make_filters(id_number=id_number, phone=phone, petitioner=name, township=township)
        if filters.id_number is None and filters.phone is None and filters.petitioner is None:
            raise QueryError("请给出身份证号、电话号码或姓名。")
        label = " ".join(v for v in (id_number, phone, name, township) if v)
        return self._run(label, Plan((), ()), filters, limit, sort="date", facets=facets)

    def more_like_this(
        self,
        letter_id: int,
        *,
        limit: int = 10,
        township: str | None = None,
        category: str | None = None,
        received_from: datetime.date | None = None,
        received_to: datetime.date | None = None,
    ) -> SearchResult:
        """Letters most like this one (never itself), best first: the basis of repeat detection.

        The letter's most telling pieces of text (frequent in it, rare in the index) are looked
        for, a letter must contain a good share of them; a letter by the same person (name, ID
        number, phone) also counts. Raises SearchError when the letter is not in the index.
        """
        self._check_open()
        limit = _check_limit(limit)
        if isinstance(letter_id, bool) or not isinstance(letter_id, int):
            raise QueryError(f"来信编号必须是整数，而不是 {letter_id!r}。")
        filters = make_filters(
            township=township,
            category=category,
            received_from=received_from,
            received_to=received_to,
        )
        stored = self._engine.stored(letter_id)
        if stored is None:
            raise SearchError(f"来信 {letter_id} 不在搜索索引中。")
        terms, weight = self._telling_terms(stored.text)
        if not terms and not stored.people:
            return SearchResult(query=f"#{letter_id}", total=0, hits=())
        found = self._engine.similar(
            terms, stored.people, exclude=letter_id, filters=filters, limit=limit
        )
        needles = [t for t, _ in terms[:8] if not t.startswith(EDGE_START)]
        own = bigrams_of(stored.text)
        hits = []
        for i, score, text in found.hits:
            other = bigrams_of(text)
            alike = round(likeness(own, other, weight), 3)
            reasons = [f"{band(alike)}（{alike:.0%}）"]
            theirs = self._engine.stored(i)
            same = set(stored.people) & set(theirs.people if theirs else ())
            reasons += list(dict.fromkeys(PERSON_REASONS[name] for name, _ in sorted(same)))
            phrases = shared_phrases(stored.text, own & other, weight)
            if phrases:
                reasons.append("共同内容：" + "、".join(phrases))
            hits.append(Hit(letter_id=i, score=score, snippet=snippet(text, needles),
                            similarity=alike, reasons=tuple(reasons)))
        hits.sort(key=lambda h: -(h.similarity or 0.0))
        return SearchResult(query=f"#{letter_id}", total=found.total, hits=tuple(hits))

    def _telling_terms(self, text: str) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """The pieces of a letter's text that best tell it apart, with tf-idf weights, and
        the rarity weight of every piece whose frequency in the index was looked up."""
        counts = Counter(
            tok
            for tok, _ in tokens(index_text(text))
            if len(tok) >= 2 and EDGE_START not in tok and EDGE_END not in tok
        )
        candidates = [t for t, _ in counts.most_common(SIMILAR_CANDIDATES)]
        if not candidates:
            return [], {}
        n_docs, freqs = self._engine.doc_freqs(candidates)
        scored: list[tuple[str, float]] = []
        for term, df in zip(candidates, freqs, strict=True):
            if df < 2 or df > max(2, SIMILAR_MAX_SHARE * n_docs):
                continue  # only in this letter, or in too many to tell letters apart
            scored.append((term, counts[term] * math.log(1 + n_docs / df)))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:SIMILAR_TERMS], weights(dict(zip(candidates, freqs, strict=True)), n_docs)

    def _run(
        self,
        query: str,
        plan: Plan,
        filters: Filters,
        limit: int,
        *,
        sort: Sort,
        facets: bool | Sequence[str],
        snippets: bool = True,
        offset: int = 0,
        tolerant: bool = False,
    ) -> SearchResult:
        """Run a parsed query on the engine (and its tolerant tiers) and cut the snippets."""
        if sort not in ("relevance", "date"):
            raise QueryError("排序方式只能是 relevance（相关度）或 date（日期）。")
        fields = _facet_fields(facets)
        if plan.empty:
            sort = "date"  # nothing to rank by: newest first
        limit = min(limit, MAX_LIMIT)
        tiers = self._tiers(plan) if tolerant and not plan.empty else {}
        exact: Found = self._engine.search(
            plan, filters, limit, sort=sort, facets=fields, offset=offset
        )
        if not tiers:
            return self._result(query, plan, exact, _exact_rows(exact), 0, snippets)
        rows = _exact_rows(exact)
        if exact.total < limit:  # the page reaches past the exact matches
            rows += self._tolerant_rows(plan, tiers, filters, limit, offset, exact, sort)
        only = [
            self._engine.search(p, filters, 1, sort=sort, facets=fields, offset=1)
            for p in tolerant_only(plan, _merged(tiers))
        ]  # counted only (offset = limit: no letter read)
        counted = Found(
            total=exact.total + sum(f.total for f in only),
            hits=exact.hits,
            facets=_add_facets([exact.facets, *(f.facets for f in only)]),
            estimated=exact.estimated or any(f.estimated for f in only),
        )
        return self._result(query, plan, counted, rows, counted.total - exact.total, snippets)

    def _tiers(self, plan: Plan) -> dict[Match, dict[Word, list[Variant]]]:
        """For each tolerant tier, the variants of the plan's words the index can match."""

        def doc_freqs(terms: list[str]) -> list[int]:
            return self._engine.doc_freqs(terms)[1]

        return variants_by_tier(plan.words, doc_freqs)

    def _tolerant_rows(
        self,
        plan: Plan,
        tiers: dict[Match, dict[Word, list[Variant]]],
        filters: Filters,
        limit: int,
        offset: int,
        exact: Found,
        sort: Sort,
    ) -> list[_Row]:
        """The tolerant-only hits from ``offset`` to ``limit``, tier after tier, each once."""
        need = limit - exact.total
        seen: set[int] = set()  # letters already shown, or matching exactly
        exact_read = False
        rows: list[_Row] = []
        for tier, found in tiers.items():
            only = tolerant_only(plan, found)
            if not only:
                continue
            if len(only) == 1:  # one word (or one OR group): its exact matches are excluded
                tplan = only[0]
            else:  # several groups: the tier's plan, less the exact matches read here
                tplan = tier_plan(plan, found) or plan
                if not exact_read:
                    if exact.total > len(exact.hits):  # the exact matches before this page
                        exact = self._engine.search(plan, filters, exact.total, sort=sort,
                                                    facets=())
                    seen |= {i for i, _, _ in exact.hits}
                    exact_read = True
            got = self._engine.search(
                tplan, filters, min(MAX_LIMIT, len(seen) + need - len(rows)), sort=sort,
                facets=(),
            )
            every = [v for vs in found.values() for v in vs]
            for letter_id, score, text in got.hits:
                if letter_id in seen:
                    continue
                seen.add(letter_id)
                cleaned = folded_with_map(text)  # once, for the corrections and the snippet
                fixed = tuple(corrections(text, every, cleaned))
                rows.append((letter_id, score, text, tier, fixed, cleaned))
            if len(rows) >= need:
                break
        skip = max(0, offset - exact.total)
        return rows[skip:need]

    @staticmethod
    def _result(
        query: str, plan: Plan, found: Found, rows: list[_Row], tolerant_total: int,
        snippets: bool,
    ) -> SearchResult:
        """Hits with their snippets: exact matches marked plainly, corrections as tolerant."""
        needles = [n for w in plan.words for n in w.needles]
        hits = []
        for letter_id, score, text, match, fixed, cleaned in rows:
            shown = ""
            if snippets:
                shown = snippet(text, needles, tolerant=[(c.start, c.end) for c in fixed],
                                mapped=cleaned)
            hits.append(Hit(
                letter_id=letter_id, score=score, snippet=shown, match=match,
                corrections=tuple(dict.fromkeys(f"{c.written} → {c.meant}" for c in fixed)),
            ))
        return SearchResult(query=query, total=found.total, hits=tuple(hits),
                            facets=found.facets, estimated=found.estimated,
                            tolerant_total=tolerant_total)

    def _count(self, plan: Plan, filters: Filters, tolerant: bool) -> int:
        """How many letters a plan finds (with its tolerant tiers when asked)."""
        tiers = self._tiers(plan) if tolerant else {}
        chosen = _union(plan, tiers) if tiers else plan
        return self._engine.search(chosen, filters, 1, sort="relevance", facets=()).total

    def _suggest(self, plan: Plan, filters: Filters, tolerant: bool) -> tuple[Suggestion, ...]:
        """Searches that find something when this one found nothing: the words as the letters
        may hold them, fewer or shorter words, no date range."""
        out: list[Suggestion] = []
        if not tolerant:
            for tier, found in self._tiers(plan).items():
                for word, vs in found.items():
                    for v in vs[:SUGGEST_EACH]:
                        if not v.written:
                            continue
                        text = _replace_word(plan, word, v.word.text)
                        total = self._count(parse(text), filters, False)
                        if total:
                            note = "形近字" if tier == "shape" else "同音字"
                            out.append(Suggestion("tolerant", text, f"{note}：{text}", total,
                                                  tolerant=False))
            total = self._count(plan, filters, True)
            if total:
                out.insert(0, Suggestion("tolerant", _plan_text(plan),
                                         "包括识别可能有误和同音的字", total))
        for text in _shorter(plan):
            total = self._count(parse(text), filters, tolerant)
            if total:
                out.append(Suggestion("shorter", text, f"只搜“{text}”", total, tolerant=tolerant))
        if filters.received_from is not None or filters.received_to is not None:
            wider = dataclasses.replace(filters, received_from=None, received_to=None)
            total = self._count(plan, wider, tolerant)
            if total:
                out.append(Suggestion("dates", _plan_text(plan), "不限日期", total,
                                      tolerant=tolerant, keep_dates=False))
        return tuple(out[:MAX_SUGGESTIONS])

    def close(self) -> None:
        """Release the index's open files; the object cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.close()

    def __enter__(self) -> LetterIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# letter id, score, text, how it matched, its corrections, its text cleaned (tolerant hits)
_Row = tuple[int, float, str, Match, tuple[Correction, ...], Cleaned | None]


def _exact_rows(found: Found) -> list[_Row]:
    """An engine's hits as exact matches."""
    return [(i, score, text, "exact", (), None) for i, score, text in found.hits]


def _merged(tiers: dict[Match, dict[Word, list[Variant]]]) -> dict[Word, list[Variant]]:
    """Every tier's variants of each word together."""
    merged: dict[Word, list[Variant]] = {}
    for found in tiers.values():
        for word, vs in found.items():
            merged.setdefault(word, []).extend(vs)
    return merged


def _union(plan: Plan, tiers: dict[Match, dict[Word, list[Variant]]]) -> Plan:
    """The plan with every tier's variants as alternatives to their words."""
    union = tier_plan(plan, _merged(tiers))
    return plan if union is None else union


def _add_facets(parts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Facet counts of disjoint sets of letters, added up."""
    first, *rest = parts
    if not any(any(counts for counts in facets.values()) for facets in rest):
        return first  # nothing tolerant to add: the engine's own order
    out: dict[str, dict[str, int]] = {}
    for facets in parts:
        for name, counts in facets.items():
            into = out.setdefault(name, {})
            for value, n in counts.items():
                into[value] = into.get(value, 0) + n
    return {name: dict(sorted(c.items(), key=_most_first)) for name, c in out.items()}


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _quoted(word: Word) -> str:
    """A word as search text again (quoted when it holds a space)."""
    return f"“{word.text}”" if " " in word.text else word.text


def _plan_text(plan: Plan) -> str:
    """A plan as search text: groups joined by spaces, OR inside a group, NOT for exclusions."""
    parts = [" OR ".join(_quoted(w) for w in group) for group in plan.groups]
    parts += [f"NOT {_quoted(w)}" for w in plan.excluded]
    return " ".join(parts)


def _replace_word(plan: Plan, word: Word, text: str) -> str:
    """The plan's text with one word written another way."""
    groups = tuple(
        tuple(word_of(text) or w if w == word else w for w in group) for group in plan.groups
    )
    return _plan_text(Plan(groups, plan.excluded))


def _shorter(plan: Plan) -> list[str]:
    """Fewer words (each one left out in turn), or one long word cut by a character."""
    if len(plan.groups) > 1:
        return [
            _plan_text(Plan(plan.groups[:k] + plan.groups[k + 1 :], plan.excluded))
            for k in range(len(plan.groups))
        ][:MAX_SUGGESTIONS]
    (group,) = plan.groups
    if len(group) != 1 or len(group[0].text) < SHORTER_FROM:
        return []
    text = group[0].text
    return [text[:-1], text[1:]]


def _check_limit(limit: object) -> int:
    """A result count must be a positive integer."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError("显示条数必须是正整数。")
    return limit


def _facet_fields(facets: bool | Sequence[str]) -> tuple[str, ...]:
    """Which fields to count: all facet fields for True, none for False, else those named."""
    if facets is True:
        return FACET_FIELDS
    if facets is False or facets is None:
        return ()
    if isinstance(facets, str):
        facets = (facets,)
    fields = tuple(dict.fromkeys(facets))
    unknown = [f for f in fields if f not in FACET_FIELDS]
    if unknown:
        raise QueryError(
            f"无法按 {', '.join(map(str, unknown))} 统计：可选 {', '.join(FACET_FIELDS)}。"
        )
    return fields
