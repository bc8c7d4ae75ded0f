"""LetterIndex: the package's one entry point, engine-neutral.

It validates and analyses letters (:mod:`search._schema`), parses user text
(:mod:`search._query`), cuts snippets (:mod:`search._snippet`) and leaves storage and matching to
an :class:`Engine`; a second engine is a new module implementing that protocol.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol

from search._query import Filters, Plan, make_filters, parse
from search._schema import Record, to_record
from search._snippet import snippet
from search._types import Hit, LetterDoc, QueryError, SearchError, SearchResult

DEFAULT_LOCK_TIMEOUT = 30.0  # seconds a writer waits for another writer to finish
MAX_LIMIT = 100_000


class Engine(Protocol):
    """What LetterIndex needs from a storage/matching engine."""

    needs_reindex: bool

    def add(self, records: Iterable[Record]) -> int: ...  # noqa: D102 - see LetterIndex.add

    def delete(self, letter_ids: Iterable[int]) -> int: ...  # noqa: D102

    def clear(self) -> None: ...  # noqa: D102

    def recreate(self) -> None: ...  # noqa: D102

    def letter_ids(self) -> set[int]: ...  # noqa: D102

    def search(  # noqa: D102
        self, plan: Plan, filters: Filters, limit: int
    ) -> tuple[int, list[tuple[int, float, str]]]: ...

    def close(self) -> None: ...  # noqa: D102


class LetterIndex:
    """The full-text index of letters: upsert, delete, search with highlighted snippets."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._closed = False

    @classmethod
    def open(cls, path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> LetterIndex:
        """Open the index in ``path``, creating the directory and an empty index if missing.

        ``lock_timeout`` is how long add/delete/clear wait for another writer before raising
        SearchError. If the directory holds an index built by an older version of the
        analysis, a new empty one is started and :attr:`needs_reindex` is True.
        """
        from search._whoosh import WhooshEngine

        return cls(WhooshEngine(Path(path), lock_timeout=lock_timeout))

    @classmethod
    def create(cls, path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> LetterIndex:
        """Start an empty index in ``path``, discarding any index there (even an unreadable one)."""
        from search._whoosh import WhooshEngine

        path = Path(path)
        try:
            engine = WhooshEngine(path, lock_timeout=lock_timeout)
        except SearchError:
            _remove_index_files(path)
            engine = WhooshEngine(path, lock_timeout=lock_timeout)
        engine.recreate()
        return cls(engine)

    @property
    def needs_reindex(self) -> bool:
        """True when this index is empty but one built by an older version lies beside it."""
        return self._engine.needs_reindex

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
        received_from: datetime.date | None = None,
        received_to: datetime.date | None = None,
        case_id: int | None = None,
    ) -> SearchResult:
        """Search letters: every space-separated word must occur (no wildcards needed).

        Names, numbers, villages, topics and phrases are matched as written, whether in
        traditional or simplified characters; an exact petitioner name ranks first. With an
        empty query and at least one filter, the filtered letters come newest first. Raises
        QueryError (a message for the user) for text that cannot be searched.
        """
        self._check_open()
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise QueryError("显示条数必须是正整数。")
        plan = parse(query)
        filters = make_filters(
            township=township,
            category=category,
            status=status,
            received_from=received_from,
            received_to=received_to,
            case_id=case_id,
        )
        if plan.empty and not filters.active:
            raise QueryError("请输入姓名、身份证号、电话号码、地名或几个关键词再搜索。")
        total, raw = self._engine.search(plan, filters, min(limit, MAX_LIMIT))
        needles = [n for w in plan.words for n in w.needles]
        hits = tuple(
            Hit(letter_id=letter_id, score=score, snippet=snippet(text, needles))
            for letter_id, score, text in raw
        )
        return SearchResult(query=query, total=total, hits=hits)

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


def _remove_index_files(path: Path) -> None:
    """Delete the files of an unreadable index (ours only: names starting with ``_letters_v``)."""
    from search._whoosh import INDEX_PREFIX

    for child in _children(path):
        if child.is_file() and child.name.startswith(f"_{INDEX_PREFIX}"):
            child.unlink(missing_ok=True)


def _children(path: Path) -> Iterator[Path]:
    """The entries of a directory, none if it does not exist."""
    if path.is_dir():
        yield from path.iterdir()
