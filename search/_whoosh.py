"""The Whoosh engine: the only module that imports whoosh.

Traps from FINDINGS.md handled here: the writer lock is waited for with a bounded timeout and a
LockError becomes a SearchError; a writer commits only on success and is cancelled (lock
released) on any error; queries are built from the analysed words, never by whoosh's query
parser; readers are refreshed before each search so they see other processes' commits.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # whoosh-reloaded's bundled pyparsing may warn at import; callers must see no warning.
    warnings.simplefilter("ignore")
    from whoosh import fields, query, sorting, writing
    from whoosh.analysis import Token, Tokenizer
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import EmptyIndexError, LockError
    from whoosh.util.filelock import try_for

from search import _schema as S
from search._analysis import tokens
from search._engine import (
    Found,
    Sort,
    Stored,
    read_content_version,
    write_content_version,
)
from search._query import Filters, Piece, Plan, Word
from search._query import Sequence as Pieces
from search._types import SearchError

INDEX_PREFIX = "letters_v"
INDEX_NAME = f"{INDEX_PREFIX}{S.SCHEMA_VERSION}"
LOCK_DELAY = 0.05  # seconds between attempts to take the writer lock

NAME_BOOST = 40.0  # an exact petitioner name outranks a name found inside other text
NUMBER_BOOST = 10.0
PLACE_BOOST = 2.0


class _PiecesTokenizer(Tokenizer):
    """Feeds (text, position) pieces to whoosh; subclasses say how a value is cut."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def pieces(self, value: str) -> Iterable[tuple[str, int]]:
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, pos in self.pieces(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token


ALT_SEP = "\x1e"  # content, then the OCR alternatives' tokens (never in cleaned text)


def _content(record: S.Record) -> str:
    """The content field's value: the folded text, then ``token@position`` of each OCR
    alternative (whoosh hands a field only a string)."""
    if not record.alternatives:
        return record.content
    extra = " ".join(f"{t}@{p}" for t, p in record.alternatives)
    return record.content + ALT_SEP + extra


class BigramTokenizer(_PiecesTokenizer):
    """Feeds :func:`search._analysis.tokens` (bigrams, edges, whole numbers) to whoosh, and
    the OCR alternatives' marked bigrams at their positions."""

    def pieces(self, value: str) -> Iterable[tuple[str, int]]:
        content, _, extra = value.partition(ALT_SEP)
        yield from tokens(content)
        for item in filter(None, extra.split(" ")):
            token, _, pos = item.rpartition("@")
            yield token, int(pos)


class ExactTokenizer(_PiecesTokenizer):
    """One token per line: exact fields hold already-normalised keys joined by newlines."""

    def pieces(self, value: str) -> Iterable[tuple[str, int]]:
        return ((text, i) for i, text in enumerate(value.split("\n")) if text)


def _schema() -> fields.Schema:
    """The whoosh schema for :class:`search._schema.Record`."""
    exact = {
        name: fields.KEYWORD(
            analyzer=ExactTokenizer(), scorable=True, stored=name in S.PERSON_FIELDS
        )
        for name in S.EXACT_FIELDS
    }
    return fields.Schema(
        **{
            S.LETTER_ID: fields.ID(stored=True, unique=True, sortable=True),
            S.CONTENT: fields.TEXT(analyzer=BigramTokenizer(), phrase=True),
            S.TEXT: fields.STORED(),
            S.RECEIVED: fields.NUMERIC(int, bits=32, sortable=True),
            S.CASE_ID: fields.NUMERIC(int, bits=64, stored=True),
            **exact,
        }
    )


def _document(record: S.Record) -> dict[str, Any]:
    """A whoosh document (field -> value) for one record."""
    doc: dict[str, Any] = {
        S.LETTER_ID: str(record.letter_id),
        S.CONTENT: _content(record),
        S.TEXT: record.text,
    }
    for name, keys in record.exact.items():
        if keys:
            doc[name] = "\n".join(keys)
    if record.received is not None:
        doc[S.RECEIVED] = record.received
    if record.case_id is not None:
        doc[S.CASE_ID] = record.case_id
    return doc


def _piece(piece: Piece) -> query.Query:
    """One token alternative: a term, or every term with a prefix."""
    if piece.kind == "prefix":
        return query.Prefix(S.CONTENT, piece.text)
    return query.Term(S.CONTENT, piece.text)


def _sequence(sequence: Pieces) -> query.Query:
    """Pieces that must be adjacent: a phrase of terms (a prefix piece always stands alone)."""
    if len(sequence) == 1:
        return _piece(sequence[0])
    if all(p.kind == "term" for p in sequence):
        return query.Phrase(S.CONTENT, [p.text for p in sequence])
    return query.Sequence([_piece(p) for p in sequence])  # not produced by _query today


def _word(word: Word) -> query.Query:
    """A word matches the letter text, or exactly a name, place, number of the letter."""
    parts = [_sequence(s) for s in word.sequences]
    alternatives: list[query.Query] = [parts[0] if len(parts) == 1 else query.And(parts)]
    if word.key:
        alternatives.append(query.Term(S.PETITIONER, word.key, boost=NAME_BOOST))
        alternatives.append(query.Term(S.REG_NO, word.key, boost=NUMBER_BOOST))
        alternatives.append(query.Term(S.VILLAGE, word.key, boost=PLACE_BOOST))
        alternatives.append(query.Term(S.TOWNSHIP, word.key, boost=PLACE_BOOST))
    if word.number:
        alternatives.append(query.Term(S.PHONE, word.number, boost=NUMBER_BOOST))
        alternatives.append(query.Term(S.ID_NUMBER, word.number, boost=NUMBER_BOOST))
    return query.Or(alternatives)


def build_query(plan: Plan) -> query.Query:
    """The whoosh query for a plan: every group (OR of words), none of the excluded words."""
    groups = [query.Or([_word(w) for w in g]) if len(g) > 1 else _word(g[0]) for g in plan.groups]
    positive = groups[0] if len(groups) == 1 else query.And(groups)
    if plan.excluded:
        return query.AndNot(positive, query.Or([_word(w) for w in plan.excluded]))
    return positive


def build_filter(filters: Filters) -> query.Query | None:
    """The whoosh filter for the exact-field, date and case restrictions, or None."""
    parts: list[query.Query] = [query.Term(name, key) for name, key in filters.keys()]
    if filters.received_from is not None or filters.received_to is not None:
        parts.append(query.NumericRange(S.RECEIVED, filters.received_from, filters.received_to))
    if filters.case_id is not None:
        parts.append(query.Term(S.CASE_ID, filters.case_id))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def build_mask(filters: Filters) -> query.Query | None:
    """The letters to leave out (their cases accuse the reader), or None: a mask of a few
    terms, where a filter "every letter but these" would list the whole index each search."""
    if not filters.exclude_cases:
        return None
    return query.Or([query.Term(S.CASE_ID, c) for c in filters.exclude_cases])


class WhooshEngine:
    """A letter index in one directory: writes under the writer lock, searches on a fresh reader."""

    def __init__(self, path: Path, *, lock_timeout: float, fresh: bool = False) -> None:
        if fresh:
            try:
                self._setup(path, lock_timeout)
            except SearchError:
                _remove_index_files(path)
                self._setup(path, lock_timeout)
            self.recreate()
        else:
            self._setup(path, lock_timeout)

    def _setup(self, path: Path, lock_timeout: float) -> None:
        """Open (creating if missing) this version's index in ``path``."""
        self.path = path
        self.lock_timeout = lock_timeout
        self.needs_reindex = False
        self._schema = _schema()
        self._searcher: Any = None
        self._generation = -1
        self._searcher_lock = threading.Lock()
        problem = ""
        with warnings.catch_warnings():
            # whoosh leaves a file open when a TOC cannot be read; it is closed when the
            # exception goes, inside this block, and must not warn in the caller.
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                self._storage = FileStorage(str(self.path))
                if not self._exists():
                    self._create(wipe_others=False, only_if_missing=True)
                self._ix = self._storage.open_index(INDEX_NAME, schema=self._schema)
                empty = self._ix.doc_count_all() == 0  # reads the TOC: fails if unreadable
                self.needs_reindex = empty and self._other_versions_present()
            except SearchError:
                raise
            except Exception as e:
                problem = f"{type(e).__name__}: {e}"
        if problem:
            raise SearchError(
                f"无法打开 {self.path} 中的搜索索引（{problem}）。"
                "请运行 `huiyin reindex` 重建索引。"
            )

    # -- creation and locking ------------------------------------------------------------

    def _exists(self) -> bool:
        """True when this version's index has a table of contents (read with our schema)."""
        try:
            self._storage.open_index(INDEX_NAME, schema=self._schema)
        except EmptyIndexError:
            return False
        return True

    def _other_versions_present(self) -> bool:
        """True when an index built by another version of the analysis lies here."""
        return any(
            name.startswith(f"_{INDEX_PREFIX}") and not name.startswith(f"_{INDEX_NAME}_")
            for name in self._storage.list()
        )

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold the writer lock, waiting at most ``lock_timeout`` seconds for it."""
        lock = self._storage.lock(f"{INDEX_NAME}_WRITELOCK")
        if not try_for(lock.acquire, timeout=self.lock_timeout, delay=LOCK_DELAY):
            raise self._busy()
        try:
            yield
        finally:
            lock.release()

    def _busy(self) -> SearchError:
        """The error for a writer lock that stayed taken."""
        return SearchError(
            f"搜索索引正忙：另一个进程写入已超过 {self.lock_timeout:g} 秒，请稍后再试。"
        )

    def _create(self, *, wipe_others: bool, only_if_missing: bool) -> None:
        """Create an empty index (under the writer lock); optionally remove older versions."""
        with self._lock():
            if only_if_missing and self._exists():
                return
            self._storage.create_index(self._schema, INDEX_NAME)
            write_content_version(self._marker(), S.CONTENT_VERSION)
            if wipe_others:
                for name in list(self._storage.list()):
                    if name.startswith(f"_{INDEX_PREFIX}") and not name.startswith(
                        f"_{INDEX_NAME}_"
                    ):
                        self._storage.delete_file(name)

    def _marker(self) -> Path:
        return self.path / f"{INDEX_NAME}.content.json"

    def content_version(self) -> int:
        """The content version its letters were written with (recorded beside the index)."""
        return read_content_version(self._marker())

    def set_content_version(self, version: int) -> None:
        """Record that every letter of the index was written with this content version."""
        write_content_version(self._marker(), version)

    def recreate(self) -> None:
        """Throw away whatever is in the directory and start an empty index of this version."""
        self._close_searcher()
        try:
            self._create(wipe_others=True, only_if_missing=False)
            self._ix = self._storage.open_index(INDEX_NAME, schema=self._schema)
        except SearchError:
            raise
        except Exception as e:
            raise SearchError(f"无法在 {self.path} 创建搜索索引：{e}") from e
        self.needs_reindex = False

    @contextmanager
    def _writer(self) -> Iterator[Any]:
        """A writer that commits only if the block succeeds; the lock is released in every case."""
        try:
            writer = self._ix.writer(timeout=self.lock_timeout, delay=LOCK_DELAY)
        except LockError:
            raise self._busy() from None
        except Exception as e:
            raise SearchError(f"无法写入搜索索引：{e}") from e
        try:
            yield writer
        except BaseException:
            _abandon(writer)
            raise
        if writer.is_closed:
            return  # the block cancelled it (nothing to write)
        try:
            writer.commit()
        except Exception as e:
            _abandon(writer)
            raise SearchError(f"无法保存搜索索引：{e}") from e

    # -- writing -------------------------------------------------------------------------

    def add(self, records: Iterable[S.Record]) -> int:
        """Upsert records in one commit; records are consumed inside the lock."""
        with self._writer() as writer:
            batch: dict[int, S.Record] = {}
            for record in records:
                batch[record.letter_id] = record  # the last version of a letter wins
            if not batch:
                writer.cancel()
                return 0
            upsert = writer.update_document if writer.segments else writer.add_document
            for record in batch.values():
                upsert(**_document(record))
        return len(batch)

    def delete(self, letter_ids: Iterable[int]) -> int:
        """Delete letters by id in one commit; return how many were in the index."""
        with self._writer() as writer:
            count = 0
            for letter_id in dict.fromkeys(letter_ids):
                count += writer.delete_by_term(S.LETTER_ID, str(letter_id))
            if not count:
                writer.cancel()
        return count

    def clear(self) -> None:
        """Remove every letter (a commit that drops all segments)."""
        with self._writer() as writer:
            writer.commit(mergetype=writing.CLEAR)

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def _searching(self) -> Iterator[Any]:
        """The shared searcher, refreshed to the latest commit; one thread at a time."""
        with self._searcher_lock:
            try:
                # Not Searcher.refresh(): it fails when the old reader saw an empty index.
                generation = self._ix.latest_generation()
                if self._searcher is not None and self._generation != generation:
                    self._searcher.close()
                    self._searcher = None
                if self._searcher is None:
                    self._searcher = self._ix.searcher()
                    self._generation = self._searcher.reader().generation()
            except Exception as e:
                raise SearchError(f"无法读取搜索索引：{e}") from e
            yield self._searcher

    def letter_ids(self) -> set[int]:
        """Every letter id in the index (deleted documents skipped)."""
        with self._searching() as searcher:
            try:
                reader = searcher.reader()
                if reader.doc_count() == 0:
                    return set()
                column = reader.column_reader(S.LETTER_ID)  # no need to load stored texts
                return {int(column[docnum]) for docnum in reader.all_doc_ids()}
            except Exception as e:
                raise SearchError(f"无法读取搜索索引：{e}") from e

    def search(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str],
        offset: int = 0,
    ) -> Found:
        """Run a plan; return the total, the best hits (or newest, by sort) from ``offset`` to
        ``limit``, and facet counts."""
        q = query.Every() if plan.empty else build_query(plan)
        return self._run(q, build_filter(filters), limit, by_date=sort == "date", facets=facets,
                         offset=offset, mask=build_mask(filters))

    def _run(
        self,
        q: query.Query,
        fq: query.Query | None,
        limit: int,
        *,
        by_date: bool,
        facets: Sequence[str] = (),
        offset: int = 0,
        mask: query.Query | None = None,
    ) -> Found:
        """Search, read the hits' ids and texts, count the facets."""
        options: dict[str, Any] = {"limit": limit, "filter": fq, "mask": mask}
        if by_date:
            options.update(sortedby=S.RECEIVED, reverse=True)
        if facets:
            options.update(
                groupedby={name: sorting.FieldFacet(name) for name in facets},
                maptype=sorting.Count,
            )
        with self._searching() as searcher:
            try:
                results = searcher.search(q, **options)
                total = len(results)
                hits = [
                    (
                        int(hit[S.LETTER_ID]),
                        0.0 if by_date else float(hit.score or 0.0),
                        hit.get(S.TEXT, ""),
                    )
                    for hit in itertools.islice(results, min(offset, limit), limit)
                ]
                counted = {name: _counts(results.groups(name)) for name in facets}
            except SearchError:
                raise
            except Exception as e:
                raise SearchError(f"搜索失败：{e}") from e
        return Found(total=total, hits=hits, facets=counted)

    def stored(self, letter_id: int) -> Stored | None:
        """The stored text and person keys of one letter, None if not indexed."""
        with self._searching() as searcher:
            fields_ = searcher.document(**{S.LETTER_ID: str(letter_id)})
        if fields_ is None:
            return None
        people = tuple(
            (name, key)
            for name in S.PERSON_FIELDS
            for key in str(fields_.get(name) or "").split("\n")
            if key
        )
        return Stored(text=fields_.get(S.TEXT, ""), people=people)

    def pinned(self) -> contextlib.AbstractContextManager[None]:
        """Several reads of one search: each already reads the latest commit (nothing to pin)."""
        return contextlib.nullcontext()

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, list[int]]:
        """The number of letters, and how many contain each content term."""
        with self._searching() as searcher:
            reader = searcher.reader()
            return reader.doc_count(), [reader.doc_frequency(S.CONTENT, t) for t in terms]

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

        alternatives: list[query.Query] = []
        if terms:
            top = max(w for _, w in terms)
            alternatives.append(
                query.Or(
                    [query.Term(S.CONTENT, t, boost=w / top) for t, w in terms],
                    minmatch=max(1, math.ceil(SIMILAR_MIN_MATCH * len(terms))),
                )
            )
        alternatives += [query.Term(n, k, boost=SIMILAR_PERSON_BOOST) for n, k in people]
        q = query.AndNot(query.Or(alternatives), query.Term(S.LETTER_ID, str(exclude)))
        return self._run(q, build_filter(filters), limit, by_date=False, mask=build_mask(filters))

    def _close_searcher(self) -> None:
        """Close the shared searcher, if one is open."""
        with self._searcher_lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def close(self) -> None:
        """Release open files."""
        self._close_searcher()


def _counts(groups: Any) -> dict[str, int]:
    """Facet counts as {value: count}, most frequent first."""
    pairs = [
        (k.decode("utf-8") if isinstance(k, bytes) else str(k), int(v))
        for k, v in groups.items()
        if k is not None
    ]
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))


def _remove_index_files(path: Path) -> None:
    """Delete the files of an unreadable index (ours only: names starting with ``_letters_v``)."""
    if path.is_dir():
        for child in path.iterdir():
            if child.is_file() and child.name.startswith(f"_{INDEX_PREFIX}"):
                child.unlink(missing_ok=True)


def _abandon(writer: Any) -> None:
    """Cancel a writer after an error and make sure its lock is released."""
    if not writer.is_closed:
        try:
            writer.cancel()
        except Exception:  # noqa: S110 - cancelling is best effort; the lock matters
            pass
    lock = getattr(writer, "writelock", None)
    if lock is not None and getattr(lock, "fd", None) is not None:
        try:
            lock.release()
        except Exception:  # noqa: S110
            pass
