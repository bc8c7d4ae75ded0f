"""What :class:`search.LetterIndex` needs from a storage/matching engine, and the engine registry.

An engine is one module (``_tantivy``, ``_whoosh``, ``_postgres``) implementing
:class:`Engine`; it is the only module importing its library. Everything else (analysis,
query parsing, snippets, the choice of more-like-this terms) is shared, so every engine indexes
and finds exactly the same letters.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from search._query import Filters, Plan
from search._schema import UNMARKED_CONTENT, Record
from search._types import SearchError

EngineName = Literal["tantivy", "whoosh", "postgres"]
ENGINES: tuple[EngineName, ...] = ("tantivy", "whoosh", "postgres")
DEFAULT_ENGINE: EngineName = "tantivy"
Sort = Literal["relevance", "date"]


@dataclass
class Found:
    """An engine's answer: how many letters matched, the best ones, and facet counts."""

    total: int
    hits: list[tuple[int, float, str]]  # (letter_id, score, text as written)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    estimated: bool = False  # total and facets estimated (PostgreSQL, very many matches)


@dataclass(frozen=True)
class Stored:
    """What the index keeps of one letter: its text and the keys that identify its writer."""

    text: str
    people: tuple[tuple[str, str], ...]  # (exact field, key): names, ID numbers, phones


class Engine(Protocol):
    """Storage and matching for LetterIndex (see search._index for the semantics)."""

    needs_reindex: bool

    def add(self, records: Iterable[Record]) -> int: ...

    def delete(self, letter_ids: Iterable[int]) -> int: ...

    def clear(self) -> None: ...

    def recreate(self) -> None: ...

    def letter_ids(self) -> set[int]: ...

    def search(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str],
        offset: int = 0,
    ) -> Found: ...

    def stored(self, letter_id: int) -> Stored | None: ...

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, list[int]]: ...

    def content_version(self) -> int: ...

    def pinned(self) -> contextlib.AbstractContextManager[None]: ...

    def set_content_version(self, version: int) -> None: ...

    def similar(
        self,
        terms: Sequence[tuple[str, float]],
        people: Sequence[tuple[str, str]],
        *,
        exclude: int,
        filters: Filters,
        limit: int,
    ) -> Found: ...

    def close(self) -> None: ...


def read_content_version(marker: Path) -> int:
    """The content version a file-based index recorded beside itself (none: written before)."""
    try:
        return int(json.loads(marker.read_text(encoding="utf-8"))["content_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return UNMARKED_CONTENT


def write_content_version(marker: Path, version: int) -> None:
    """Record a file-based index's content version (atomically: a new file, then renamed)."""
    tmp = marker.with_name(marker.name + ".tmp")
    try:
        tmp.write_text(json.dumps({"content_version": version}), encoding="utf-8")
        tmp.replace(marker)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise SearchError(f"无法记录搜索索引的内容版本（{marker}：{e}）。") from e


def open_engine(
    name: object, location: Path | str, *, lock_timeout: float, fresh: bool = False
) -> Engine:
    """Open (or, with ``fresh``, recreate) the named engine's index at ``location``.

    ``location`` is a folder for tantivy and Whoosh, a database URL for PostgreSQL.
    """
    if name == "postgres":
        try:
            from search._postgres import PostgresEngine
        except ImportError as e:
            raise SearchError(f"搜索引擎 postgres 需要 psycopg（{e}）。") from e
        return PostgresEngine(location, lock_timeout=lock_timeout, fresh=fresh)
    if name in ("tantivy", "whoosh") and isinstance(location, str) and "://" in location:
        raise SearchError(f"搜索引擎 {name} 的索引是一个文件夹，而不是数据库地址。")
    path = Path(location)
    if name == "tantivy":
        try:
            from search._tantivy import TantivyEngine
        except ImportError as e:  # pragma: no cover - tantivy is a main dependency
            raise SearchError(f"搜索引擎 tantivy 未安装（{e}）。") from e
        return TantivyEngine(path, lock_timeout=lock_timeout, fresh=fresh)
    if name == "whoosh":
        from search._whoosh import WhooshEngine

        return WhooshEngine(path, lock_timeout=lock_timeout, fresh=fresh)
    raise SearchError(f"未知的搜索引擎 {name!r}：可选 {', '.join(ENGINES)}。")
