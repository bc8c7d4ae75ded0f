"""The PostgreSQL engine: the only module that imports psycopg.

For an office that already runs PostgreSQL for its records: the index is one table,
``<schema>.letter_v<N>`` (schema ``search`` unless the URL says ``?schema=...``), in the
database named by a URL (``postgresql://user@host/db`` or SQLAlchemy's
``postgresql+psycopg://...``).

* ``content`` is a ``tsvector`` built from :func:`search._analysis.tokens` with their positions
  (the same bigrams, edge tokens and position gaps tantivy and Whoosh get), written as a
  tsvector literal; no text search configuration or parser touches it. Every exact field is a
  lexeme ``field=key`` in the same tsvector (weights: name A, numbers B, places C), so a
  whole search - words, phrases (``<->``), prefixes (``:*``), names, numbers and filters - is
  one ``tsquery`` on one GIN index; dates and cases are btree columns; facets are columns.
* Ranking is ``ts_rank`` with weights {content 0.025, places 0.05, numbers 0.25, name 1}, the
  same proportions as the other engines' boosts (1 : 2 : 10 : 40).
* The letter as written is ``bytea`` (UTF-8, surrogates passed), cut into snippets by the
  shared :mod:`search._snippet`.

User text never becomes SQL: queries and lexemes travel as parameters (``%s::tsquery``), the
tsquery/tsvector literals quote every lexeme, identifiers are composed with
:class:`psycopg.sql.Identifier`.

Index operations: one writer at a time (a transaction-scoped advisory lock, retried for
``lock_timeout`` seconds, then a SearchError in Chinese); a batch is one transaction, committed
only on success; a killed writer's transaction is rolled back by the server and its lock freed.
Readers are never blocked (MVCC) and see every commit. A limit of tsvector: positions stop
at 16,383 (about 15,000 characters of text), so past that point of a very long letter only
two-character words, names and numbers are found, not longer phrases; a lexeme keeps its first
256 positions.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from search import _schema as S
from search._analysis import tokens
from search._engine import Found, Sort, Stored
from search._query import Filters, Piece, Plan, Word
from search._query import Sequence as Pieces
from search._types import SearchError

DEFAULT_SCHEMA = "search"
TABLE_PREFIX = "letter_v"
TABLE = f"{TABLE_PREFIX}{S.SCHEMA_VERSION}"
LOCK_DELAY = 0.05  # seconds between attempts to take the writer lock
LOCK_CLASS = 0x4879  # first key of the advisory lock ("Hy"); the second hashes the table
CONNECT_TIMEOUT = 10
MAX_POSITION = 16383  # tsvector's largest position
ESTIMATE_FROM = 5_000  # letters from which more-like-this uses the planner's statistics
STATS_TTL = 300.0  # seconds those statistics are kept before being read again
MAX_KEY_BYTES = 1000  # a longer exact key is stored as its hash (a lexeme holds < 2 kB)
# ts_rank weights {D, C, B, A}: content, places, numbers, name (boosts 1 : 2 : 10 : 40)
RANK_WEIGHTS = "{0.025,0.05,0.25,1}"
WEIGHT = {
    S.PETITIONER: "A",
    S.ID_NUMBER: "B",
    S.PHONE: "B",
    S.REG_NO: "B",
    S.TOWNSHIP: "C",
    S.VILLAGE: "C",
}
COLUMNS = (
    "letter_id",
    "content",
    "text",
    "received",
    "case_id",
    *S.FACET_FIELDS,
    "people",
)
_SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_url(location: object) -> bool:
    """True for a PostgreSQL URL (what this engine opens instead of a folder)."""
    return isinstance(location, str) and location.split(":", 1)[0].split("+", 1)[0] in (
        "postgresql",
        "postgres",
    )


def parse_location(location: object) -> tuple[str, str]:
    """Split a URL into a libpq URL (driver suffix and ``schema=`` removed) and the schema."""
    if isinstance(location, Path) or not is_url(location):
        raise SearchError(
            "PostgreSQL 搜索引擎需要数据库地址，例如 postgresql://用户@主机/数据库，"
            f"而不是 {type(location).__name__}。"
        )
    assert isinstance(location, str)
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = DEFAULT_SCHEMA
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_RE.fullmatch(schema):
        raise SearchError(f"搜索索引的 schema 名称 {schema!r} 无效：只能用小写字母、数字和下划线。")
    url = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(kept), parts.fragment))
    return url, schema


# -- literals ------------------------------------------------------------------------------


def _quote(lexeme: str) -> str:
    """A lexeme quoted for tsvector/tsquery input (the value still travels as a parameter)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def key_lexeme(field: str, key: str) -> str:
    """The lexeme of an exact field's value: ``field=key`` (a long key by its hash)."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        key = "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{field}={key}"


def tsvector_literal(record: S.Record) -> str:
    """The tsvector of a record: content tokens with positions, exact keys with weights."""
    positions: dict[str, list[int]] = {}
    for token, pos in tokens(record.content):
        positions.setdefault(token, []).append(min(pos + 1, MAX_POSITION))
    parts = [f"{_quote(t)}:{','.join(map(str, ps[:256]))}" for t, ps in positions.items()]
    for name, keys in record.exact.items():
        weight = WEIGHT.get(name, "D")
        parts.extend(f"{_quote(key_lexeme(name, key))}:1{weight}" for key in keys)
    return " ".join(parts)


def _piece(piece: Piece) -> str:
    if piece.kind == "prefix":
        return _quote(piece.text) + ":*"
    return _quote(piece.text)


def _sequence(sequence: Pieces) -> str:
    """Pieces at consecutive positions: a phrase (a prefix piece always stands alone)."""
    return "(" + " <-> ".join(_piece(p) for p in sequence) + ")"


def word_query(word: Word) -> str:
    """A word matches the letter text, or exactly a name, place, number of the letter."""
    alternatives = ["(" + " & ".join(_sequence(s) for s in word.sequences) + ")"]
    if word.key:
        for name in S.WORD_KEY_FIELDS:
            alternatives.append(_quote(key_lexeme(name, word.key)))
    if word.number:
        for name in S.NUMBER_FIELDS:
            alternatives.append(_quote(key_lexeme(name, word.number)))
    return "(" + " | ".join(alternatives) + ")"


def plan_query(plan: Plan) -> str:
    """The tsquery of a plan: every group (OR of words), none of the excluded words."""
    parts = ["(" + " | ".join(word_query(w) for w in g) + ")" for g in plan.groups]
    parts += ["!" + word_query(w) for w in plan.excluded]
    return " & ".join(parts)


def filter_query(filters: Filters) -> str:
    """The tsquery of the exact-field filters ('' when there are none)."""
    return " & ".join(_quote(key_lexeme(name, key)) for name, key in filters.keys())


def _both(a: str, b: str) -> str:
    return f"({a}) & ({b})" if a and b else a or b


# -- the engine ----------------------------------------------------------------------------


class PostgresEngine:
    """A letter index in one PostgreSQL table: writes under an advisory lock, MVCC reads."""

    def __init__(self, location: object, *, lock_timeout: float, fresh: bool = False) -> None:
        self.url, self.schema = parse_location(location)
        self.lock_timeout = lock_timeout
        self.needs_reindex = False
        self._thread_lock = threading.RLock()
        self._table = sql.Identifier(self.schema, TABLE)
        self._stats: tuple[float, int, dict[str, float]] | None = None
        try:
            self._conn = psycopg.connect(
                self.url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="huiyin-search",
            )
        except psycopg.Error as e:
            raise SearchError(f"无法打开 PostgreSQL 中的搜索索引：无法连接数据库（{e}）。") from e
        try:
            with contextlib.suppress(psycopg.Error):  # JIT's ~20 ms never pays off here
                self._conn.execute("SET jit = off")
            if fresh:
                self.recreate()
            else:
                self._open()
        except BaseException:
            self._conn.close()
            raise

    # -- creation ------------------------------------------------------------------------

    def _tables(self) -> list[str]:
        """Names of our index tables (every version) in the schema."""
        rows = self._conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
            (self.schema, TABLE_PREFIX + "%"),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _open(self) -> None:
        """Create this version's table if missing; check that an existing one is readable.

        The writer lock is taken only to create the table: opening to search never waits for
        a writer (a reindex may hold the lock batch after batch).
        """
        if TABLE not in self._tables():
            with self._writer():
                tables = self._tables()
                if TABLE not in tables:
                    self._create()
                    self.needs_reindex = bool(tables)
                    return
        try:
            self._conn.execute(
                sql.SQL("SELECT {} FROM {} LIMIT 0").format(
                    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), self._table
                )
            )
        except psycopg.Error as e:
            raise SearchError(
                f"无法打开 PostgreSQL 中的搜索索引 {self.schema}.{TABLE}（{e}）。"
                "请运行 `huiyin reindex` 重建索引。"
            ) from e

    def _create(self) -> None:
        """The schema, table and indexes of this version (inside the writer's transaction)."""
        t = self._table
        for statement in (
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)),
            sql.SQL(
                "CREATE TABLE {} (letter_id bigint PRIMARY KEY, content tsvector NOT NULL, "
                "text bytea NOT NULL, received integer, case_id bigint, township text, "
                "category text, status text, unit text, people text[] NOT NULL)"
            ).format(t),
            sql.SQL("CREATE INDEX {} ON {} USING gin (content)").format(
                sql.Identifier(f"{TABLE}_content"), t
            ),
            sql.SQL("CREATE INDEX {} ON {} (received)").format(
                sql.Identifier(f"{TABLE}_received"), t
            ),
            sql.SQL("CREATE INDEX {} ON {} (case_id)").format(
                sql.Identifier(f"{TABLE}_case_id"), t
            ),
        ):
            self._conn.execute(statement)
        # A phrase is rechecked on the tsvector of every candidate letter: keep it compressed
        # in the row itself (STORAGE MAIN) rather than in TOAST chunks behind an index lookup;
        # the text as written (read only for the shown hits) goes out of line instead.
        self._conn.execute(
            sql.SQL(
                "ALTER TABLE {} ALTER COLUMN content SET STORAGE MAIN, "
                "ALTER COLUMN text SET STORAGE EXTENDED"
            ).format(t)
        )
        # more-like-this reads lexeme frequencies from ANALYZE: keep the 5,000 most common
        self._conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN content SET STATISTICS 500").format(t)
        )
        try:  # lz4 decompresses faster than pglz (PostgreSQL 14+ built with lz4)
            with self._conn.transaction():
                self._conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN content SET COMPRESSION lz4").format(t)
                )
        except psycopg.Error:
            pass

    def recreate(self) -> None:
        """An empty table of this version; tables of other versions (or unreadable) dropped."""
        try:
            with self._writer():
                self._conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
                for name in self._tables():
                    self._conn.execute(
                        sql.SQL("DROP TABLE {}").format(sql.Identifier(self.schema, name))
                    )
                self._create()
        except psycopg.Error as e:
            raise SearchError(f"无法在 PostgreSQL 中创建搜索索引：{e}") from e
        self.needs_reindex = False

    # -- writing -------------------------------------------------------------------------

    def _busy(self) -> SearchError:
        return SearchError(
            f"搜索索引正忙：另一个进程写入已超过 {self.lock_timeout:g} 秒，请稍后再试。"
        )

    @contextmanager
    def _writer(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction holding the writer lock: committed only if the block succeeds."""
        deadline = time.monotonic() + self.lock_timeout
        if not self._thread_lock.acquire(timeout=max(self.lock_timeout, 0.001)):
            raise self._busy()
        try:
            with self._conn.transaction():
                while not self._conn.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                    (LOCK_CLASS, f"{self.schema}.{TABLE_PREFIX}"),
                ).fetchone()[0]:  # type: ignore[index]
                    if time.monotonic() >= deadline:
                        raise self._busy()
                    time.sleep(LOCK_DELAY)
                yield self._conn
        except psycopg.Error as e:
            raise SearchError(f"无法写入搜索索引：{e}") from e
        finally:
            self._thread_lock.release()

    def add(self, records: Iterable[S.Record]) -> int:
        """Upsert records in one transaction; records are consumed before the lock is taken."""
        batch: dict[int, S.Record] = {}
        for record in records:
            batch[record.letter_id] = record  # the last version of a letter wins
        if not batch:
            return 0
        rows = [_row(r) for r in batch.values()]
        columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        with self._writer() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE letter_id = ANY(%s)").format(self._table),
                (list(batch),),
            )
            with (
                conn.cursor() as cur,
                cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(self._table, columns)) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        return len(batch)

    def delete(self, letter_ids: Iterable[int]) -> int:
        """Delete letters by id in one transaction; return how many were in the index."""
        ids = list(dict.fromkeys(letter_ids))
        with self._writer() as conn:
            cur = conn.execute(
                sql.SQL("DELETE FROM {} WHERE letter_id = ANY(%s)").format(self._table), (ids,)
            )
            return cur.rowcount

    def clear(self) -> None:
        """Remove every letter (DELETE, not TRUNCATE: readers are never blocked)."""
        with self._writer() as conn:
            conn.execute(sql.SQL("DELETE FROM {}").format(self._table))

    # -- reading -------------------------------------------------------------------------

    def _read(
        self, query: sql.SQL | sql.Composed, params: Sequence[Any] | dict[str, Any] = ()
    ) -> Any:
        """Run a read; a database error is a SearchError."""
        with self._thread_lock:
            try:
                return self._conn.execute(query, params).fetchall()
            except psycopg.Error as e:
                raise SearchError(f"无法读取搜索索引：{e}") from e

    def letter_ids(self) -> set[int]:
        """Every letter id in the index."""
        rows = self._read(sql.SQL("SELECT letter_id FROM {}").format(self._table))
        return {int(r[0]) for r in rows}

    def search(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str],
        offset: int = 0,
    ) -> Found:
        """Run a plan; return the total, the best hits (or newest, by sort) from ``offset`` to
        ``limit``, and facet counts."""
        score, where, params = self._plan(plan, filters, sort=sort)
        return self._run(score, where, params, limit, by_date=sort == "date", facets=facets,
                         offset=offset)

    def explain(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str] = ()
    ) -> str:
        """EXPLAIN (ANALYZE, BUFFERS) of the statement :meth:`search` runs (for the benchmark)."""
        score, where, params = self._plan(plan, filters, sort=sort)
        query, params = self._statement(
            score, where, params, limit, by_date=sort == "date", facets=facets
        )
        rows = self._read(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(query), params)
        return "\n".join(str(r[0]) for r in rows)

    def _plan(
        self, plan: Plan, filters: Filters, *, sort: Sort
    ) -> tuple[sql.Composable, sql.Composable, dict[str, Any]]:
        """The score expression, WHERE clause and parameters of a plan."""
        rank = plan_query(plan)
        where, params = self._where(_both(rank, filter_query(filters)), filters)
        if sort == "date" or not rank:
            score: sql.Composable = sql.SQL("0::real")
        else:
            score = sql.SQL("ts_rank(%(weights)s::real[], content, %(rank)s::tsquery)")
            params.update(weights=RANK_WEIGHTS, rank=rank)
        return score, where, params

    def _where(self, tsquery: str, filters: Filters) -> tuple[sql.Composable, dict[str, Any]]:
        """The WHERE clause of a tsquery plus the date and case restrictions, with parameters."""
        parts: list[sql.Composable] = []
        params: dict[str, Any] = {}
        if tsquery:
            parts.append(sql.SQL("content @@ %(match)s::tsquery"))
            params["match"] = tsquery
        if filters.received_from is not None:
            parts.append(sql.SQL("received >= %(received_from)s"))
            params["received_from"] = filters.received_from
        if filters.received_to is not None:
            parts.append(sql.SQL("received <= %(received_to)s"))
            params["received_to"] = filters.received_to
        if filters.case_id is not None:
            parts.append(sql.SQL("case_id = %(case_id)s"))
            params["case_id"] = filters.case_id
        where = sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")
        return where, params

    def _run(
        self,
        score: sql.Composable,
        where: sql.Composable,
        params: dict[str, Any],
        limit: int,
        *,
        by_date: bool,
        facets: Sequence[str] = (),
        offset: int = 0,
    ) -> Found:
        """One statement: the matches once, then their count, the best ones and the facets."""
        query, params = self._statement(score, where, params, limit, by_date=by_date, facets=facets,
                                        offset=offset)
        (row,) = self._read(query, params)
        total, best = int(row[0]), row[1]
        ids = [int(i) for i, _ in best]
        texts = self._texts(ids)
        hits = [(int(i), float(s), texts.get(int(i), "")) for i, s in best]
        counted = {
            name: dict(sorted(((str(k), int(v)) for k, v in value.items()), key=_by_count))
            for name, value in zip([n for n in facets if n in S.FACET_FIELDS], row[2:], strict=True)
        }
        return Found(total=total, hits=hits, facets=counted)

    def _statement(
        self,
        score: sql.Composable,
        where: sql.Composable,
        params: dict[str, Any],
        limit: int,
        *,
        by_date: bool,
        facets: Sequence[str] = (),
        offset: int = 0,
    ) -> tuple[sql.Composed, dict[str, Any]]:
        """The SELECT of :meth:`_run` and its parameters."""
        order = (
            sql.SQL("received DESC NULLS LAST, letter_id DESC")
            if by_date
            else sql.SQL("score DESC, letter_id")
        )
        facet_parts = [
            sql.SQL(
                ", (SELECT coalesce(json_object_agg(k, c), '{{}}') FROM "
                "(SELECT {f} AS k, count(*) AS c FROM m WHERE {f} IS NOT NULL GROUP BY {f}) x)"
            ).format(f=sql.Identifier(name))
            for name in facets
            if name in S.FACET_FIELDS
        ]
        query = sql.SQL(
            "WITH m AS MATERIALIZED (SELECT letter_id, received, {facet_columns} "
            "{score} AS score FROM {table} WHERE {where}) "
            "SELECT (SELECT count(*) FROM m), (SELECT coalesce(json_agg(json_build_array("
            "letter_id, score)), '[]') FROM (SELECT letter_id, score FROM m ORDER BY {order} "
            "LIMIT %(limit)s OFFSET %(offset)s) h){facets}"
        ).format(
            facet_columns=sql.SQL("").join(
                sql.SQL("{}, ").format(sql.Identifier(n)) for n in S.FACET_FIELDS if n in facets
            ),
            score=score,
            table=self._table,
            where=where,
            order=order,
            facets=sql.SQL("").join(facet_parts),
        )
        offset = min(offset, limit)
        return query, {**params, "limit": limit - offset, "offset": offset}

    def _texts(self, ids: list[int]) -> dict[int, str]:
        """The texts as written of some letters."""
        if not ids:
            return {}
        rows = self._read(
            sql.SQL("SELECT letter_id, text FROM {} WHERE letter_id = ANY(%s)").format(self._table),
            (ids,),
        )
        return {int(i): bytes(t).decode("utf-8", "surrogatepass") for i, t in rows}

    def stored(self, letter_id: int) -> Stored | None:
        """The stored text and person keys of one letter, None if not indexed."""
        rows = self._read(
            sql.SQL("SELECT text, people FROM {} WHERE letter_id = %s").format(self._table),
            (letter_id,),
        )
        if not rows:
            return None
        text, people = rows[0]
        pairs = tuple(tuple(p.split("=", 1)) for p in people)
        return Stored(
            text=bytes(text).decode("utf-8", "surrogatepass"),
            people=tuple((a, b) for a, b in pairs),
        )

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, list[int]]:
        """The number of letters, and how many contain each content term.

        Exact for small indexes. Past ESTIMATE_FROM letters the letter count is the planner's,
        a term among the most common lexemes ANALYZE found (``pg_stats``) takes its measured
        share, and only the rarer ones are counted, each up to the share past which
        more-like-this ignores a term (so no search reads a third of the table).
        """
        from search._index import SIMILAR_MAX_SHARE

        n_docs, common = self._statistics()
        if not terms:
            return n_docs, []
        cap = int(max(2, SIMILAR_MAX_SHARE * n_docs)) + 1
        freqs: dict[str, int] = {
            t: min(cap, round(common[t] * n_docs)) for t in terms if t in common
        }
        rare = [t for t in dict.fromkeys(terms) if t not in freqs]
        if rare:
            rows = self._read(
                sql.SQL(
                    "SELECT (SELECT count(*) FROM (SELECT 1 FROM {} WHERE content @@ u.q "
                    "LIMIT %(cap)s) x) FROM unnest(%(queries)s::tsquery[]) WITH ORDINALITY "
                    "AS u(q, i) ORDER BY u.i"
                ).format(self._table),
                {"cap": cap, "queries": [_quote(t) for t in rare]},
            )
            freqs.update(zip(rare, (int(r[0]) for r in rows), strict=True))
        return n_docs, [freqs[t] for t in terms]

    def _statistics(self) -> tuple[int, dict[str, float]]:
        """The number of letters, and the share of letters holding each common lexeme."""
        now = time.monotonic()
        if self._stats is not None and now - self._stats[0] < STATS_TTL:
            return self._stats[1], self._stats[2]
        (row,) = self._read(
            sql.SQL("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass"),
            (f'"{self.schema}"."{TABLE}"',),
        )
        estimate = int(row[0])
        if estimate < ESTIMATE_FROM:
            (row,) = self._read(sql.SQL("SELECT count(*) FROM {}").format(self._table))
            return int(row[0]), {}  # small: count exactly, every time
        rows = self._read(
            sql.SQL(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE schemaname = %s AND tablename = %s AND attname = 'content'"
            ),
            (self.schema, TABLE),
        )
        common: dict[str, float] = {}
        if rows and rows[0][0] is not None:
            common = dict(zip(rows[0][0], rows[0][1], strict=False))
        self._stats = (now, estimate, common)
        return estimate, common

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

        params: dict[str, Any] = {"exclude": exclude}
        matched: list[sql.Composable] = []
        scores: list[sql.Composable] = []
        alternatives: list[sql.Composable] = []
        if terms:
            top = max(w for _, w in terms)
            need = max(1, math.ceil(SIMILAR_MIN_MATCH * len(terms)))
            for k, (term, weight) in enumerate(terms):
                params[f"t{k}"] = _quote(term)
                has = sql.SQL("(content @@ %({})s::tsquery)::int").format(sql.SQL(f"t{k}"))
                matched.append(has)
                scores.append(sql.SQL("{} * {}").format(has, sql.Literal(weight / top)))
            # A letter holding `need` of the terms holds one of the len - need + 1 first ones.
            params["any_term"] = " | ".join(_quote(t) for t, _ in terms[: len(terms) - need + 1])
            params["need"] = need
            alternatives.append(
                sql.SQL("(content @@ %(any_term)s::tsquery AND ({}) >= %(need)s)").format(
                    sql.SQL(" + ").join(matched)
                )
            )
        if people:
            params["people"] = " | ".join(_quote(key_lexeme(n, k)) for n, k in people)
            alternatives.append(sql.SQL("content @@ %(people)s::tsquery"))
            scores.append(
                sql.SQL("(content @@ %(people)s::tsquery)::int * {}").format(
                    sql.Literal(float(SIMILAR_PERSON_BOOST))
                )
            )
        where, extra = self._where(filter_query(filters), filters)
        params.update(extra)
        where = sql.SQL("letter_id <> %(exclude)s AND ({}) AND {}").format(
            sql.SQL(" OR ").join(alternatives), where
        )
        score = sql.SQL("({})::real").format(sql.SQL(" + ").join(scores))
        return self._run(score, where, params, limit, by_date=False)

    def close(self) -> None:
        """Close the database connection."""
        with self._thread_lock:
            self._conn.close()


def _row(record: S.Record) -> tuple[Any, ...]:
    """A COPY row for one record, in the order of COLUMNS."""
    facets = tuple(record.exact[name][0] if record.exact[name] else None for name in S.FACET_FIELDS)
    people = [f"{name}={key}" for name in S.PERSON_FIELDS for key in record.exact[name]]
    return (
        record.letter_id,
        tsvector_literal(record),
        record.text.encode("utf-8", "surrogatepass"),
        record.received,
        record.case_id,
        *facets,
        people,
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
