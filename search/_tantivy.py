"""The tantivy engine (the default): the only module that imports tantivy.

The letter text is analysed by :mod:`search._analysis` (the same bigrams, edge tokens and
positions Whoosh gets) and handed to tantivy pre-tokenised, so both engines find exactly the
same letters; tantivy does the storing, BM25 scoring, phrase matching and counting in Rust.

Index operations: one writer at a time (tantivy's lock file; a busy lock is retried for
``lock_timeout`` seconds, then a SearchError in Chinese); a batch is committed only when every
letter was added, otherwise rolled back; a crash before commit leaves the last committed
index (tantivy switches ``meta.json`` atomically). Readers are never blocked: a search reloads
the reader to see other processes' commits.
"""

from __future__ import annotations

import math
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from search import _schema as S
from search._engine import (
    Found,
    Sort,
    Stored,
    read_content_version,
    write_content_version,
)
from search._query import Filters, Piece, Plan, Word
from search._types import SearchError

DIR_PREFIX = "tantivy_v"
DIR_NAME = f"{DIR_PREFIX}{S.SCHEMA_VERSION}"
LOCK_DELAY = 0.05  # seconds between attempts to take the writer lock
HEAP_BYTES = 64_000_000  # writer memory per thread before it flushes a segment
BULK_HEAP_BYTES = 200_000_000
BULK = 1000  # a batch at least this large is written with two threads

NAME_BOOST = 40.0  # an exact petitioner name outranks a name found inside other text
NUMBER_BOOST = 10.0
PLACE_BOOST = 2.0
FACET_SIZE = 500  # distinct values counted per facet field

_Occur = tantivy.Occur
_Q = tantivy.Query


def _schema() -> tantivy.Schema:
    """The tantivy schema for :class:`search._schema.Record`."""
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field(S.LETTER_ID, stored=True, indexed=True, fast=True)
    builder.add_text_field(S.CONTENT, tokenizer_name="raw", index_option="position")
    builder.add_bytes_field(S.TEXT, stored=True, indexed=False)
    for name in S.EXACT_FIELDS:
        builder.add_text_field(
            name,
            stored=name in S.PERSON_FIELDS,
            fast=name in S.FACET_FIELDS,
            tokenizer_name="raw",
            index_option="freq",
        )
    builder.add_integer_field(S.RECEIVED, indexed=True, fast=True)
    builder.add_integer_field(S.CASE_ID, stored=True, indexed=True, fast=True)
    return builder.build()


def _document(record: S.Record) -> tantivy.Document:
    """A tantivy document for one record; the content goes in as our own tokens."""
    doc = tantivy.Document()
    doc.add_integer(S.LETTER_ID, record.letter_id)
    pieces = [tantivy.Token(text, pos, 0, 0) for text, pos in S.record_tokens(record)]
    doc.add_pre_tokenized_text(S.CONTENT, tantivy.PreTokenizedString("", pieces))
    doc.add_bytes(S.TEXT, record.text.encode("utf-8", "surrogatepass"))
    for name, keys in record.exact.items():
        for key in keys:
            doc.add_text(name, key)
    if record.received is not None:
        doc.add_integer(S.RECEIVED, record.received)
    if record.case_id is not None:
        doc.add_integer(S.CASE_ID, record.case_id)
    return doc


class _Builder:
    """Turns plans and filters into tantivy queries (never tantivy's query parser)."""

    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def term(self, name: str, value: Any, boost: float = 1.0) -> tantivy.Query:
        q = _Q.term_query(self.schema, name, value)
        return q if boost == 1.0 else _Q.boost_query(q, boost)

    def piece(self, piece: Piece) -> tantivy.Query:
        """One token alternative: a term, or every term with a prefix."""
        if piece.kind == "prefix":
            return _Q.regex_query(self.schema, S.CONTENT, re.escape(piece.text) + ".*")
        return self.term(S.CONTENT, piece.text)

    def sequence(self, sequence: Sequence[Piece]) -> tantivy.Query:
        """Pieces at consecutive positions: a phrase of terms (a prefix always stands alone)."""
        if len(sequence) == 1:
            return self.piece(sequence[0])
        return _Q.phrase_query(
            self.schema, S.CONTENT, [(i, p.text) for i, p in enumerate(sequence)]
        )

    def word(self, word: Word) -> tantivy.Query:
        """A word matches the letter text, or exactly a name, place, number of the letter."""
        parts = [self.sequence(s) for s in word.sequences]
        text = parts[0] if len(parts) == 1 else _all(parts)
        alternatives = [text]
        if word.key:
            alternatives.append(self.term(S.PETITIONER, word.key, NAME_BOOST))
            alternatives.append(self.term(S.REG_NO, word.key, NUMBER_BOOST))
            alternatives.append(self.term(S.VILLAGE, word.key, PLACE_BOOST))
            alternatives.append(self.term(S.TOWNSHIP, word.key, PLACE_BOOST))
        if word.number:
            alternatives.append(self.term(S.PHONE, word.number, NUMBER_BOOST))
            alternatives.append(self.term(S.ID_NUMBER, word.number, NUMBER_BOOST))
        return _any(alternatives)

    def plan(self, plan: Plan) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Clauses for a plan: every group (OR of words) must match, no excluded word may."""
        clauses = [(_Occur.Must, _any([self.word(w) for w in group])) for group in plan.groups]
        clauses += [(_Occur.MustNot, self.word(w)) for w in plan.excluded]
        return clauses

    def filters(self, filters: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Clauses (scoring nothing) for the exact-field, date and case restrictions."""
        parts = [self.term(name, key) for name, key in filters.keys()]
        if filters.received_from is not None or filters.received_to is not None:
            parts.append(
                _Q.range_query(
                    self.schema,
                    S.RECEIVED,
                    tantivy.FieldType.Integer,
                    filters.received_from,
                    filters.received_to,
                )
            )
        if filters.case_id is not None:
            parts.append(self.term(S.CASE_ID, filters.case_id))
        clauses = [(_Occur.Must, _Q.const_score_query(p, 0.0)) for p in parts]
        if filters.exclude_cases:
            clauses.append((_Occur.MustNot, _Q.term_set_query(
                self.schema, S.CASE_ID, list(filters.exclude_cases))))
        return clauses


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    """At least one of the queries."""
    if len(queries) == 1:
        return queries[0]
    return _Q.boolean_query([(_Occur.Should, q) for q in queries])


def _all(queries: list[tantivy.Query]) -> tantivy.Query:
    """Every one of the queries."""
    return _Q.boolean_query([(_Occur.Must, q) for q in queries])


def _is_lock_busy(error: Exception) -> bool:
    """tantivy reports a taken writer lock as a ValueError mentioning LockBusy."""
    return "LockBusy" in str(error) or "lock" in str(error).lower()


class TantivyEngine:
    """A letter index in ``path/tantivy_vN``: writes under the writer lock, reads on a reloaded
    searcher."""

    def __init__(self, path: Path, *, lock_timeout: float, fresh: bool = False) -> None:
        self.path = path
        self.dir = path / DIR_NAME
        self.marker = path / f"{DIR_NAME}.content.json"
        self.lock_timeout = lock_timeout
        self.needs_reindex = False
        self._schema = _schema()
        self._build = _Builder(self._schema)
        self._lock = threading.Lock()  # one thread of this process writes at a time
        self._kept: tuple[bytes | None, Any] | None = None  # (a commit's meta.json, searcher)
        self._local = threading.local()  # a searcher pinned for the block of pinned()
        try:
            _make_dir(self.dir)
            existed = tantivy.Index.exists(str(self.dir))
            self._ix = self._open()
            if not existed:
                self.needs_reindex = self._other_versions_present()
                write_content_version(self.marker, S.CONTENT_VERSION)
        except SearchError:
            if not fresh:
                raise
            shutil.rmtree(self.dir, ignore_errors=True)
            _make_dir(self.dir)
            self._ix = self._open()
        if fresh:
            self.recreate()

    def _open(self) -> tantivy.Index:
        """Open (or create) the index in ``self.dir``; an unreadable one is a SearchError."""
        try:
            index = tantivy.Index(self._schema, path=str(self.dir), reuse=True)
            index.config_reader(reload_policy="manual")
            return index
        except Exception as e:
            raise SearchError(
                f"无法打开 {self.dir} 中的搜索索引（{type(e).__name__}: {e}）。"
                "请运行 `huiyin reindex` 重建索引。"
            ) from e

    def _other_versions_present(self) -> bool:
        """True when an index built by another version of the analysis lies beside this one."""
        return any(
            p.is_dir() and p.name.startswith(DIR_PREFIX) and p.name != DIR_NAME
            for p in self.path.iterdir()
        )

    # -- writing -------------------------------------------------------------------------

    def _busy(self) -> SearchError:
        return SearchError(
            f"搜索索引正忙：另一个进程写入已超过 {self.lock_timeout:g} 秒，请稍后再试。"
        )

    @contextmanager
    def _writer(self, *, bulk: bool = False) -> Iterator[Any]:
        """A writer that commits only if the block succeeds; the lock is released in every case."""
        deadline = time.monotonic() + self.lock_timeout
        with _acquire(self._lock, self.lock_timeout, self._busy):
            while True:
                try:
                    if bulk:
                        writer = self._ix.writer(heap_size=BULK_HEAP_BYTES, num_threads=2)
                    else:
                        writer = self._ix.writer(heap_size=HEAP_BYTES, num_threads=1)
                    break
                except ValueError as e:
                    if not _is_lock_busy(e):
                        raise SearchError(f"无法写入搜索索引：{e}") from e
                    if time.monotonic() >= deadline:
                        raise self._busy() from None
                    time.sleep(LOCK_DELAY)
            try:
                try:
                    yield writer
                except BaseException:
                    _rollback(writer)
                    raise
                try:
                    writer.commit()
                    writer.wait_merging_threads()  # merges done and the lock released
                except Exception as e:
                    _rollback(writer)
                    raise SearchError(f"无法保存搜索索引：{e}") from e
            finally:
                del writer

    def add(self, records: Iterable[S.Record]) -> int:
        """Upsert records in one commit; records are consumed before the lock is taken."""
        batch: dict[int, S.Record] = {}
        for record in records:
            batch[record.letter_id] = record  # the last version of a letter wins
        if not batch:
            return 0
        docs = [_document(r) for r in batch.values()]
        with self._writer(bulk=len(docs) >= BULK) as writer:
            if self._count() > 0:
                for letter_id in batch:
                    writer.delete_documents_by_term(S.LETTER_ID, letter_id)
            for doc in docs:
                writer.add_document(doc)
        return len(batch)

    def delete(self, letter_ids: Iterable[int]) -> int:
        """Delete letters by id in one commit; return how many were in the index."""
        present = [i for i in dict.fromkeys(letter_ids) if self._has(i)]
        if not present:
            return 0
        with self._writer() as writer:
            for letter_id in present:
                writer.delete_documents_by_term(S.LETTER_ID, letter_id)
        return len(present)

    def clear(self) -> None:
        """Remove every letter (one commit)."""
        with self._writer() as writer:
            writer.delete_all_documents()

    def recreate(self) -> None:
        """An empty index of this version; indexes of other versions are removed."""
        self.clear()
        for p in self.path.iterdir():
            if p.is_dir() and p.name.startswith(DIR_PREFIX) and p.name != DIR_NAME:
                shutil.rmtree(p, ignore_errors=True)
        write_content_version(self.marker, S.CONTENT_VERSION)
        self.needs_reindex = False

    def content_version(self) -> int:
        """The content version its letters were written with (recorded beside the index)."""
        return read_content_version(self.marker)

    def set_content_version(self, version: int) -> None:
        """Record that every letter of the index was written with this content version."""
        write_content_version(self.marker, version)

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Read one commit throughout the block (this thread): a search's several reads (the
        exact page, the tolerant tiers and counts) agree, and the commit is looked up once."""
        if getattr(self._local, "searcher", None) is not None:
            yield
            return
        self._local.searcher = self._searcher()
        try:
            yield
        finally:
            self._local.searcher = None

    def _searcher(self) -> Any:
        """A searcher on the latest commit (of any process), or the pinned one.

        Every commit writes a new ``meta.json`` (with the commit's opstamp): while it reads
        the same, the searcher of the last call still sees the latest commit, and the reader
        is not reloaded (~1.5 ms each time, several times per tolerant search).
        """
        pinned = getattr(self._local, "searcher", None)
        if pinned is not None:
            return pinned
        try:
            commit: bytes | None = (self.dir / "meta.json").read_bytes()
        except OSError:
            commit = None
        try:
            kept = self._kept
            if commit is None or kept is None or kept[0] != commit:
                self._ix.reload()
                kept = self._kept = (commit, self._ix.searcher())
            return kept[1]
        except Exception as e:
            raise SearchError(f"无法读取搜索索引：{e}") from e

    def _count(self) -> int:
        return int(self._searcher().num_docs)

    def _has(self, letter_id: int) -> bool:
        result = self._searcher().search(self._build.term(S.LETTER_ID, letter_id), 1, count=True)
        return bool(result.count)

    def letter_ids(self) -> set[int]:
        """Every letter id in the index (deleted documents skipped)."""
        searcher = self._searcher()
        n = int(searcher.num_docs)
        if n == 0:
            return set()
        try:
            result = searcher.search(_Q.all_query(), n, count=False, order_by_field=S.LETTER_ID)
            values = searcher.fast_field_values(S.LETTER_ID, [a for _, a in result.hits])
        except Exception as e:
            raise SearchError(f"无法读取搜索索引：{e}") from e
        return {int(v) for v in values if v is not None}

    def search(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str],
        offset: int = 0,
    ) -> Found:
        """Run a plan; return the total, the best hits (or newest, by sort) from ``offset`` to
        ``limit``, and facet counts."""
        clauses = self._build.plan(plan) + self._build.filters(filters)
        if not plan.groups:
            clauses.append((_Occur.Must, _Q.all_query()))
        return self._run(_Q.boolean_query(clauses), limit, by_date=sort == "date", facets=facets,
                         offset=offset)

    def _run(
        self, q: tantivy.Query, limit: int, *, by_date: bool, facets: Sequence[str] = (),
        offset: int = 0,
    ) -> Found:
        """Search, then read the ids and texts of the hits and count the facets."""
        searcher = self._searcher()
        offset = min(offset, limit)
        try:
            if limit == offset:  # only the total and the facets
                result = searcher.search(q, 1, count=True)
                result_hits: list[Any] = []
            elif by_date:
                result = searcher.search(
                    q, limit - offset, count=True, order_by_field=S.RECEIVED,
                    order=tantivy.Order.Desc, offset=offset,
                )
                result_hits = result.hits
            else:
                result = searcher.search(q, limit - offset, count=True, offset=offset)
                result_hits = result.hits
            hits = []
            for score, address in result_hits:
                doc = searcher.doc(address)
                text = bytes(doc.get_first(S.TEXT) or b"").decode("utf-8", "surrogatepass")
                value = 0.0 if by_date else float(score)
                hits.append((int(doc.get_first(S.LETTER_ID)), value, text))
            counted = self._facets(searcher, q, facets) if facets else {}
        except SearchError:
            raise
        except Exception as e:
            raise SearchError(f"搜索失败：{e}") from e
        return Found(total=int(result.count or 0), hits=hits, facets=counted)

    @staticmethod
    def _facets(
        searcher: Any, q: tantivy.Query, fields: Sequence[str]
    ) -> dict[str, dict[str, int]]:
        """Count each field's values over every match (terms aggregations on fast fields)."""
        agg = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in fields}
        answer = searcher.aggregate(q, agg)
        return {
            name: {str(b["key"]): int(b["doc_count"]) for b in answer[name]["buckets"]}
            for name in fields
        }

    def stored(self, letter_id: int) -> Stored | None:
        """The stored text and person keys of one letter, None if not indexed."""
        searcher = self._searcher()
        result = searcher.search(self._build.term(S.LETTER_ID, letter_id), 1)
        if not result.hits:
            return None
        doc = searcher.doc(result.hits[0][1])
        text = bytes(doc.get_first(S.TEXT) or b"").decode("utf-8", "surrogatepass")
        people = tuple(
            (name, str(value)) for name in S.PERSON_FIELDS for value in doc.get_all(name)
        )
        return Stored(text=text, people=people)

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, list[int]]:
        """The number of letters, and how many contain each content term."""
        searcher = self._searcher()
        return int(searcher.num_docs), [int(searcher.doc_freq(S.CONTENT, t)) for t in terms]

    def similar(
        self,
        terms: Sequence[tuple[str, float]],
        people: Sequence[tuple[str, str]],
        *,
        exclude: int,
        filters: Filters,
        limit: int,
    ) -> Found:
        """Letters sharing a good share of the weighted terms, or a person; never ``exclude``."""
        from search._index import SIMILAR_MIN_MATCH, SIMILAR_PERSON_BOOST

        b = self._build
        shoulds: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if terms:
            top = max(w for _, w in terms)
            text = _Q.boolean_query(
                [(_Occur.Should, b.term(S.CONTENT, t, w / top)) for t, w in terms],
                max(1, math.ceil(SIMILAR_MIN_MATCH * len(terms))),
            )
            shoulds.append((_Occur.Should, text))
        for name, key in people:
            shoulds.append((_Occur.Should, b.term(name, key, SIMILAR_PERSON_BOOST)))
        clauses = [
            (_Occur.Must, _Q.boolean_query(shoulds)),
            (_Occur.MustNot, b.term(S.LETTER_ID, exclude)),
            *b.filters(filters),
        ]
        return self._run(_Q.boolean_query(clauses), limit, by_date=False)

    def close(self) -> None:
        """Nothing to release: tantivy maps files and frees them with the object."""


def _make_dir(path: Path) -> None:
    """Create the index directory; a path that cannot be one is a SearchError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SearchError(f"无法打开或创建 {path} 中的搜索索引（{e}）。") from e


@contextmanager
def _acquire(lock: threading.Lock, timeout: float, busy: Any) -> Iterator[None]:
    """Hold a thread lock, waiting at most ``timeout`` seconds."""
    if not lock.acquire(timeout=max(timeout, 0.001)):
        raise busy()
    try:
        yield
    finally:
        lock.release()


def _rollback(writer: Any) -> None:
    """Discard what a writer added since its last commit (best effort; dropping it frees the
    lock)."""
    try:
        writer.rollback()
    except Exception:  # noqa: S110 - the writer is dropped next, which releases the lock
        pass
