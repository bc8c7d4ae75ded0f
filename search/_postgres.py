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
import functools
import hashlib
import json
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
from search._engine import Found, Sort, Stored
from search._query import Filters, Piece, Plan, Word
from search._query import Sequence as Pieces
from search._types import SearchError

DEFAULT_SCHEMA = "search"
TABLE_PREFIX = "letter_v"
LAYOUT = 2  # this module's own table layout (2: candidates from the grams column)
TABLE = f"{TABLE_PREFIX}{S.SCHEMA_VERSION}_{LAYOUT}"
LOCK_DELAY = 0.05  # seconds between attempts to take the writer lock
LOCK_CLASS = 0x4879  # first key of the advisory lock ("Hy"); the second hashes the table
CONNECT_TIMEOUT = 10
MAX_POSITION = 16383  # tsvector's largest position
ESTIMATE_FROM = 5_000  # letters from which more-like-this uses the planner's statistics
STATS_TTL = 300.0  # seconds those statistics are kept before being read again
# A page of hits is counted, ranked and faceted over every match up to EXACT_UP_TO matches;
# past it the cost would grow with the matches (each is rechecked on its positions), so the
# total and facets are estimated from the newest SAMPLE_ROWS letters and the hits are the
# exact names and numbers first, then the newest letters (see docs/search.md). 4,000 balances
# the worst exact count (~16 µs a match) and the worst walk (~12 µs a letter) at 1M letters.
EXACT_UP_TO = 4_000
SAMPLE_ROWS = 2_000
# More-like-this compares a letter's telling terms with the newest SIMILAR_WINDOW letters (every
# letter of the same person, though): a fixed cost, where looking at every letter holding one
# of the terms took 1-5 s at 100,000 letters and grows with them.
SIMILAR_WINDOW = 10_000
RARE_COUNTED = 500  # a term ANALYZE did not list among the common ones is counted up to this
# the exact fields a word ranks first by (names and numbers, not places: a township is common)
FIRST_FIELDS = (S.PETITIONER, S.REG_NO)
JOIN = "\x1f"  # between two tokens of a joint (a control character: never in a token)
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
NEWEST = sql.SQL("received DESC NULLS LAST, letter_id DESC")  # the order of the _newest index
Query = sql.SQL | sql.Composed
Statement = tuple[Query, dict[str, Any]]
# the sample, the letters it stands for, the first tier (or None), the rest newest first
ManyStatements = tuple[Statement, Statement, Statement | None, Statement]
COLUMNS = (
    "letter_id",
    "content",
    "grams",
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


def tsvector_literal(record: S.Record, found: Sequence[tuple[str, int]] | None = None) -> str:
    """The tsvector of a record: content tokens with positions, exact keys with weights."""
    positions: dict[str, list[int]] = {}
    for token, pos in S.record_tokens(record) if found is None else found:
        positions.setdefault(token, []).append(min(pos + 1, MAX_POSITION))
    parts = [f"{_quote(t)}:{','.join(map(str, ps[:256]))}" for t, ps in positions.items()]
    for name, keys in record.exact.items():
        weight = WEIGHT.get(name, "D")
        parts.extend(f"{_quote(key_lexeme(name, key))}:1{weight}" for key in keys)
    return " ".join(parts)


def _is_bigram(token: str) -> bool:
    """A two-character token of Chinese (not digits, Latin or an edge token)."""
    return len(token) == 2 and token.isalpha() and not token.isascii()


def joints(found: Iterable[tuple[str, int]]) -> set[str]:
    """Each two tokens at consecutive positions as one lexeme: two overlapping bigrams as their
    three characters (拆迁, 迁安 -> 拆迁安), other pairs joined by JOIN (拖了, <73).

    A phrase then needs every joint of its pieces in ``grams``, which only the letters holding
    its words in that order almost always have: few candidates to check on positions.
    """
    at: dict[int, list[str]] = {}
    for token, pos in found:
        at.setdefault(pos, []).append(token)
    out = set()
    for pos, firsts in at.items():
        for a in firsts:
            for b in at.get(pos + 1, ()):
                if not (_is_bigram(a) and _is_bigram(b)):
                    out.add(a + JOIN + b)
                elif a[1] == b[0]:
                    out.add(a + b[1])
    return out


def grams_literal(record: S.Record, found: Sequence[tuple[str, int]] | None = None) -> str:
    """The candidates' tsvector: every content token and joint and exact key, no positions.

    Only its GIN index reads it: a query without phrases or weights needs no recheck there,
    and a phrase's joints leave few letters whose positions ``content`` must then check.
    """
    if found is None:
        found = S.record_tokens(record)
    lexemes = {t for t, _ in found} | joints(found)
    lexemes |= {key_lexeme(name, key) for name, keys in record.exact.items() for key in keys}
    return " ".join(_quote(x) for x in sorted(lexemes))


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


def _loose_word(word: Word) -> str:
    """What a letter matching the word holds, in any order: its pieces and joints (or one
    of its exact keys)."""
    needed: list[str] = []
    for sequence in word.sequences:
        needed += [_piece(p) for p in sequence]
        terms = [(p.text, k) for k, p in enumerate(sequence) if p.kind == "term"]
        needed += [_quote(t) for t in sorted(joints(terms))]
    alternatives = ["(" + " & ".join(dict.fromkeys(needed)) + ")"] if needed else []
    if word.key:
        alternatives += [_quote(key_lexeme(n, word.key)) for n in S.WORD_KEY_FIELDS]
    if word.number:
        alternatives += [_quote(key_lexeme(n, word.number)) for n in S.NUMBER_FIELDS]
    return "(" + " | ".join(alternatives) + ")"


def loose_query(plan: Plan, filters: Filters) -> str:
    """The tsquery on ``grams`` that finds the candidates of a plan: a superset of its
    matches (an excluded word is left to the check on ``content``)."""
    parts = ["(" + " | ".join(_loose_word(w) for w in g) + ")" for g in plan.groups]
    return _both(" & ".join(parts), filter_query(filters))


def plan_query(plan: Plan) -> str:
    """The tsquery of a plan: every group (OR of words), none of the excluded words."""
    parts = ["(" + " | ".join(word_query(w) for w in g) + ")" for g in plan.groups]
    parts += ["!" + word_query(w) for w in plan.excluded]
    return " & ".join(parts)


def filter_query(filters: Filters) -> str:
    """The tsquery of the exact-field filters ('' when there are none)."""
    return " & ".join(_quote(key_lexeme(name, key)) for name, key in filters.keys())


def first_query(plan: Plan) -> str:
    """The tsquery of the words that are exactly a petitioner, registration or ID/phone
    number of a letter (they rank first); '' when no word can be."""
    lexemes: list[str] = []
    for group in plan.groups:
        for word in group:
            if word.key:
                lexemes += [_quote(key_lexeme(n, word.key)) for n in FIRST_FIELDS]
            if word.number:
                lexemes += [_quote(key_lexeme(n, word.number)) for n in S.NUMBER_FIELDS]
    return " | ".join(dict.fromkeys(lexemes))


def expected_share(plan: Plan, filters: Filters, common: dict[str, float]) -> float:
    """The share of letters a plan is expected to match, from ANALYZE's lexeme frequencies.

    The planner multiplies the frequencies of a phrase's bigrams as if they were independent,
    and the bigrams of one word are not: it expects 1,833 letters of 100,000 to hold 环境污染,
    which 12,429 do. Here a phrase or an AND is as common as its rarest part, an OR the sum of
    its parts; a bigram or joint ANALYZE did not find among the common ones is taken at
    half the rarest common frequency (as the planner does), an exact key (a name, a number)
    at none: it is one person's or one letter's, and if it is not, the exact search that
    follows still stops at its limit.
    """
    rare = min(common.values(), default=1.0) / 2

    def lexeme(text: str) -> float:
        return common.get(text, rare)

    def key(text: str) -> float:
        return common.get(text, 0.0)

    def sequence(seq: Pieces) -> float:
        terms = [(p.text, k) for k, p in enumerate(seq) if p.kind == "term"]
        return min(map(lexeme, [t for t, _ in terms] + sorted(joints(terms))), default=1.0)

    def word(w: Word) -> float:
        text = min(map(sequence, w.sequences), default=1.0)
        keys = [key_lexeme(n, w.key) for n in S.WORD_KEY_FIELDS] if w.key else []
        keys += [key_lexeme(n, w.number) for n in S.NUMBER_FIELDS] if w.number else []
        return min(1.0, text + sum(map(key, keys)))

    shares = [min(1.0, sum(word(w) for w in group)) for group in plan.groups]
    shares += [key(key_lexeme(n, k)) for n, k in filters.keys()]
    return min(shares, default=1.0)


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
        self._searching = threading.local()  # .stats: the small index's count, one search
        self.exact_up_to, self.sample_rows = EXACT_UP_TO, SAMPLE_ROWS  # smaller in tests
        self.similar_window = SIMILAR_WINDOW
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
                "grams tsvector NOT NULL, "
                "text bytea NOT NULL, received integer, case_id bigint, township text, "
                "category text, status text, unit text, people text[] NOT NULL)"
            ).format(t),
            sql.SQL("CREATE INDEX {} ON {} USING gin (grams)").format(
                sql.Identifier(f"{TABLE}_grams"), t
            ),
            sql.SQL("CREATE INDEX {} ON {} (received DESC NULLS LAST, letter_id DESC)").format(
                sql.Identifier(f"{TABLE}_newest"), t
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
                "ALTER COLUMN grams SET STORAGE EXTERNAL, ALTER COLUMN text SET STORAGE EXTENDED"
            ).format(t)
        )
        # more-like-this and the choice of plan read lexeme frequencies from ANALYZE: keep
        # the 5,000 most common
        self._conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN grams SET STATISTICS 500").format(t)
        )
        self._comment(S.CONTENT_VERSION)
        try:  # lz4 decompresses faster than pglz (PostgreSQL 14+ built with lz4)
            with self._conn.transaction():
                self._conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN content SET COMPRESSION lz4").format(t)
                )
        except psycopg.Error:
            pass

    def _comment(self, version: int) -> None:
        """The table's comment records the content version its letters were written with."""
        self._conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                self._table, sql.Literal(json.dumps({"content_version": version}))
            )
        )

    def content_version(self) -> int:
        """The content version its letters were written with (the table's comment)."""
        (row,) = self._read(
            sql.SQL("SELECT obj_description(%s::regclass, 'pg_class')"),
            (f'"{self.schema}"."{TABLE}"',),
        )
        try:
            return int(json.loads(row[0])["content_version"])
        except (ValueError, KeyError, TypeError):  # no comment: written before it was kept
            return S.UNMARKED_CONTENT

    def set_content_version(self, version: int) -> None:
        """Record that every letter of the index was written with this content version."""
        with self._writer():
            self._comment(version)

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
        ``limit``, and facet counts.

        Up to EXACT_UP_TO matches (and whenever more hits than that are asked for) everything
        is exact; past it the answer comes from :meth:`_many`, at a cost that does not grow
        with the matches.
        """
        score, where, params = self._plan(plan, filters, sort=sort)
        by_date = sort == "date"
        if limit > self.exact_up_to:  # every hit asked for (an export, the evaluation)
            return self._run(score, where, params, limit, by_date=by_date, facets=facets,
                             offset=offset)
        statements = functools.partial(self._many_statements, plan, filters, params, limit,
                                       by_date=by_date, facets=facets, offset=offset)
        letters, common = self._statistics()
        if expected_share(plan, filters, common) * letters > self.exact_up_to:
            found = self._many(statements(), limit, facets=facets, offset=offset, sure=False)
            if found is not None:
                return found
        found = self._run(score, where, params, limit, by_date=by_date, facets=facets,
                          offset=offset, cap=self.exact_up_to + 1)
        if found.total <= self.exact_up_to:
            return found
        counted = self._many(statements(), limit, facets=facets, offset=offset, sure=True)
        assert counted is not None
        return counted

    def explain(
        self, plan: Plan, filters: Filters, limit: int, *, sort: Sort, facets: Sequence[str] = ()
    ) -> str:
        """EXPLAIN (ANALYZE, BUFFERS) of the statements :meth:`search` runs (for the benchmark)."""
        score, where, params = self._plan(plan, filters, sort=sort)
        by_date = sort == "date"
        query, params = self._statement(
            score, where, params, limit, by_date=by_date, facets=facets, cap=self.exact_up_to + 1
        )
        plans = [self._explain(query, params)]
        if self.search(plan, filters, limit, sort=sort, facets=facets).estimated:
            sample, estimate, first, rest = self._many_statements(
                plan, filters, params, limit, by_date=by_date, facets=facets, offset=0)
            plans += [self._explain(*sample, forced=True), self._explain(*estimate)]
            plans += [self._explain(*first)] if first is not None else []
            plans += [self._explain(*rest, forced=True)]
        return "\n\n".join(plans)

    def _explain(self, query: Query, params: dict[str, Any], *,
                 forced: bool = False) -> str:
        explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(query)
        rows = self._newest_first(explain, params) if forced else self._read(explain, params)
        return "\n".join(str(r[0]) for r in rows)

    def _plan(
        self, plan: Plan, filters: Filters, *, sort: Sort
    ) -> tuple[sql.Composable, sql.Composable, dict[str, Any]]:
        """The score expression, WHERE clause and parameters of a plan."""
        rank = plan_query(plan)
        where, params = self._where(filters, _both(rank, filter_query(filters)),
                                    loose_query(plan, filters))
        if sort == "date" or not rank:
            score: sql.Composable = sql.SQL("0::real")
        else:
            score = sql.SQL("ts_rank(%(weights)s::real[], content, %(rank)s::tsquery)")
            params.update(weights=RANK_WEIGHTS, rank=rank)
        return score, where, params

    def _where(
        self, filters: Filters, match: str = "", loose: str = ""
    ) -> tuple[sql.Composable, dict[str, Any]]:
        """The WHERE clause of the candidates (``loose``, on the index), the matches among
        them and the date and case restrictions, with its parameters."""
        parts: list[sql.Composable] = []
        params: dict[str, Any] = {}
        if loose:
            parts.append(sql.SQL("grams @@ %(loose)s::tsquery"))
            params["loose"] = loose
        if match:
            parts.append(sql.SQL("content @@ %(match)s::tsquery"))
            params["match"] = match
        if filters.received_from is not None:
            parts.append(sql.SQL("received >= %(received_from)s"))
            params["received_from"] = filters.received_from
        if filters.received_to is not None:
            parts.append(sql.SQL("received <= %(received_to)s"))
            params["received_to"] = filters.received_to
        if filters.case_id is not None:
            parts.append(sql.SQL("case_id = %(case_id)s"))
            params["case_id"] = filters.case_id
        if filters.exclude_cases:
            parts.append(sql.SQL("(case_id IS NULL OR case_id <> ALL(%(hidden)s::bigint[]))"))
            params["hidden"] = list(filters.exclude_cases)
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
        cap: int | None = None,
        source: sql.Composable | None = None,
    ) -> Found:
        """One statement: the matches once, then their count, the best ones and the facets."""
        query, params = self._statement(score, where, params, limit, by_date=by_date, facets=facets,
                                        offset=offset, cap=cap, source=source)
        (row,) = self._read(query, params)
        total, best = int(row[0]), [(int(i), float(s)) for i, s in row[1]]
        if cap is not None and total >= cap:
            return Found(total=total, hits=[])  # too many: the caller answers otherwise
        fields = [n for n in facets if n in S.FACET_FIELDS]
        return Found(total=total, hits=self._with_texts(best),
                     facets=_facets(fields, row[2:]))

    def _with_texts(self, best: list[tuple[int, float]]) -> list[tuple[int, float, str]]:
        texts = self._texts([i for i, _ in best])
        return [(i, s, texts.get(i, "")) for i, s in best]

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
        cap: int | None = None,
        source: sql.Composable | None = None,
    ) -> tuple[sql.Composed, dict[str, Any]]:
        """The SELECT of :meth:`_run` and its parameters (matches read up to ``cap``), from
        the table or ``source``."""
        order = NEWEST if by_date else sql.SQL("score DESC, letter_id")
        query = sql.SQL(
            "WITH m AS MATERIALIZED (SELECT letter_id, received, {facet_columns} "
            "{score} AS score FROM {table} WHERE {where}{cap}) "
            "SELECT (SELECT count(*) FROM m), (SELECT coalesce(json_agg(json_build_array("
            "letter_id, score)), '[]') FROM (SELECT letter_id, score FROM m ORDER BY {order} "
            "LIMIT %(limit)s OFFSET %(offset)s) h){facets}"
        ).format(
            facet_columns=sql.SQL("").join(
                sql.SQL("{}, ").format(sql.Identifier(n)) for n in S.FACET_FIELDS if n in facets
            ),
            score=score,
            table=source or self._table,
            where=where,
            cap=sql.SQL(" LIMIT %(cap)s") if cap is not None else sql.SQL(""),
            order=order,
            facets=_facet_counts(facets, "m", sql.SQL("true")),
        )
        offset = min(offset, limit)
        extra = {"cap": cap} if cap is not None else {}
        return query, {**params, **extra, "limit": limit - offset, "offset": offset}

    # -- more than EXACT_UP_TO matches ---------------------------------------------------

    def _many(
        self,
        statements: ManyStatements,
        limit: int,
        *,
        facets: Sequence[str],
        offset: int,
        sure: bool,
    ) -> Found | None:
        """A page of a search with more than EXACT_UP_TO matches, at a bounded cost, from the
        statements of :meth:`_many_statements`; None when the sample shows it has not that
        many (unless already counted: ``sure``).

        The total and the facets are estimated from the matches among the newest SAMPLE_ROWS
        letters (exact when the dates and case leave no more letters than that). The hits:
        by relevance, the letters where a word is exactly a petitioner, registration, ID or
        phone number, ranked, then the rest newest first; by date, newest first. Reading
        newest first stops after the page: about (page end) / (share of letters matching)
        letters are read, at most (page end) x letters / EXACT_UP_TO.
        """
        sample, estimate, first, rest = statements
        (row,) = self._newest_first(*sample)
        seen, matched = int(row[0]), int(row[1])
        fields = [n for n in facets if n in S.FACET_FIELDS]
        counted = _facets(fields, row[2:])
        estimated = seen >= self.sample_rows
        total, scale = matched, 1.0
        if estimated:
            (letters,) = self._read(*estimate)[0]
            scale = int(letters) / seen
            total = round(matched * scale)
        if total <= self.exact_up_to:
            if not sure:
                return None  # the lexeme statistics made the words look commoner
            total = self.exact_up_to + 1
        if estimated:
            counted = {
                name: {k: max(1, round(v * scale)) for k, v in values.items()}
                for name, values in counted.items()
            }
        best: list[tuple[int, float]] = []
        if first is not None:
            best = [(int(i), float(v)) for i, v in self._read(*first)]
        page = best[offset:limit]
        if len(best) < limit:  # the first tier is all there; the page goes on newest first
            query, rest_params = rest
            skip, take = max(0, offset - len(best)), limit - max(offset, len(best))
            rows = self._newest_first(query, {**rest_params, "skip": skip, "take": take})
            page += [(int(r[0]), 0.0) for r in rows]
        return Found(total=total, hits=self._with_texts(page), facets=counted, estimated=estimated)

    def _many_statements(
        self,
        plan: Plan,
        filters: Filters,
        params: dict[str, Any],
        limit: int,
        *,
        by_date: bool,
        facets: Sequence[str],
        offset: int,
    ) -> ManyStatements:
        """The statements of :meth:`_many`: the sample, the letters it stands for, the first
        tier (None by date or without names and numbers), the rest newest first."""
        restrict, narrowed = self._where(filters)  # dates and case: the btree part
        # no words and no exact field (dates alone): every letter walked matches
        match = sql.SQL("content @@ %(match)s::tsquery" if params.get("match") else "true")
        sample = sql.SQL(
            "WITH s AS MATERIALIZED (SELECT {match} AS hit{facet_columns} FROM {table} "
            "WHERE {restrict} ORDER BY {newest} LIMIT %(sample)s) "
            "SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM s WHERE hit){facets}"
        ).format(
            match=match,
            facet_columns=sql.SQL("").join(
                sql.SQL(", {}").format(sql.Identifier(n)) for n in S.FACET_FIELDS if n in facets
            ),
            table=self._table,
            restrict=restrict,
            newest=NEWEST,
            facets=_facet_counts(facets, "s", sql.SQL("hit")),
        )
        if not narrowed.keys() - {"hidden"}:  # no dates or case: the letters of the index
            # (a few cases left out, §30 ¶3, do not change an estimate)
            estimate: Statement = (sql.SQL("SELECT %(letters)s::bigint"),
                                   {"letters": self._statistics()[0]})
        else:
            estimate = (sql.SQL("SELECT count(*) FROM {} WHERE {}").format(self._table, restrict),
                        narrowed)
        # without the grams condition: the walk reads `content` in the row; `grams` (a match
        # implies it) would be fetched from TOAST for every letter walked
        where, _ = self._where(filters, params.get("match", ""))
        keys = "" if by_date else first_query(plan)
        first: Statement | None = None
        unranked = where
        if keys:
            first = (
                # the names and numbers alone go to the index (a few letters); the words'
                # common bigrams would make it read long posting lists for nothing
                sql.SQL(
                    "WITH f AS MATERIALIZED (SELECT letter_id, content FROM {} WHERE "
                    "grams @@ %(first)s::tsquery AND {}) "
                    "SELECT letter_id, ts_rank(%(weights)s::real[], content, %(rank)s::tsquery) "
                    "AS score FROM f WHERE content @@ %(match)s::tsquery "
                    "ORDER BY score DESC, letter_id LIMIT %(limit)s"
                ).format(self._table, restrict),
                {**params, **narrowed, "first": keys, "limit": limit},
            )
            unranked = sql.SQL("{} AND NOT content @@ %(first)s::tsquery").format(where)
        rest = (
            sql.SQL("SELECT letter_id FROM {} WHERE {} ORDER BY {} LIMIT %(take)s "
                    "OFFSET %(skip)s").format(self._table, unranked, NEWEST),
            {**params, "first": keys, "take": limit - offset, "skip": offset},
        )
        return (sample, {**params, "sample": self.sample_rows}), estimate, first, rest

    def _newest_first(self, query: Query, params: dict[str, Any]) -> Any:
        """Run a read walking the newest-first index, however common the planner thinks the
        words are: it stops after the rows asked for instead of rechecking every match."""
        with self._thread_lock:
            try:
                with self._conn.transaction():
                    self._conn.execute("SET LOCAL enable_bitmapscan = off")
                    self._conn.execute("SET LOCAL enable_seqscan = off")
                    return self._conn.execute(query, params).fetchall()
            except psycopg.Error as e:
                raise SearchError(f"无法读取搜索索引：{e}") from e

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

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Several reads of one search: each reads the latest commit; the letter count of a
        small index is read once for them all (a tolerant search asked for it ~4 times)."""
        outer = getattr(self._searching, "stats", None) is not None
        if not outer:
            self._searching.stats = {}
        try:
            yield
        finally:
            if not outer:
                self._searching.stats = None

    def doc_freqs(self, terms: Sequence[str]) -> tuple[int, list[int]]:
        """The number of letters, and how many contain each content term.

        Exact for small indexes. Past ESTIMATE_FROM letters the letter count is the planner's,
        a term among the most common lexemes ANALYZE found (``pg_stats``) takes its measured
        share, and only the rarer ones are counted, each up to RARE_COUNTED letters: one that
        has more lies between that and the rarest common share, and is taken at the larger of
        the two and half that share (the planner's guess for a lexeme it did not list). So
        counting costs the same at a million letters as at ten thousand.
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
        unlisted = round(min(common.values(), default=0.0) * n_docs / 2)
        if common:
            cap = min(cap, RARE_COUNTED)
        if rare:
            rows = self._read(
                sql.SQL(
                    "SELECT (SELECT count(*) FROM (SELECT 1 FROM {} WHERE grams @@ u.q "
                    "LIMIT %(cap)s) x) FROM unnest(%(queries)s::tsquery[]) WITH ORDINALITY "
                    "AS u(q, i) ORDER BY u.i"
                ).format(self._table),
                {"cap": cap, "queries": [_quote(t) for t in rare]},
            )
            counted = [int(r[0]) for r in rows]
            freqs.update((t, max(n, unlisted) if common and n >= cap else n)
                         for t, n in zip(rare, counted, strict=True))
        return n_docs, [freqs[t] for t in terms]

    def _statistics(self) -> tuple[int, dict[str, float]]:
        """The number of letters, and the share of letters holding each common lexeme."""
        now = time.monotonic()
        if self._stats is not None and now - self._stats[0] < STATS_TTL:
            return self._stats[1], self._stats[2]
        memo = getattr(self._searching, "stats", None)  # within one search (pinned)
        if memo:
            return memo["letters"], {}
        # one round trip: the planner's estimate, and (only when small) the exact count
        (row,) = self._read(
            sql.SQL("SELECT reltuples::bigint, CASE WHEN reltuples < %s THEN "
                    "(SELECT count(*) FROM {}) END FROM pg_class WHERE oid = %s::regclass"
                    ).format(self._table),
            (ESTIMATE_FROM, f'"{self.schema}"."{TABLE}"'),
        )
        estimate = int(row[0])
        if estimate < ESTIMATE_FROM:
            if memo is not None:
                memo["letters"] = int(row[1])
            return int(row[1]), {}  # small: count exactly, once per search
        rows = self._read(
            sql.SQL(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE schemaname = %s AND tablename = %s AND attname = 'grams'"
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
        scores: list[sql.Composable] = []
        alternatives: list[sql.Composable] = []
        if terms:
            top = max(w for _, w in terms)
            need = max(1, math.ceil(SIMILAR_MIN_MATCH * len(terms)))
            for k, (term, weight) in enumerate(terms):
                params[f"t{k}"] = _quote(term)
                has = sql.SQL("(content @@ %({})s::tsquery)::int").format(sql.SQL(f"t{k}"))
                scores.append(sql.SQL("{} * {}").format(has, sql.Literal(weight / top)))
            # Among the newest SIMILAR_WINDOW letters: a letter holding `need` of the n terms
            # holds one of the n - need + 1 first ones (a cheap check), and how many it holds
            # is what deleting them takes off its lexemes (one pass over its tsvector, where a
            # check per term decompressed it 25 times).
            params["any_term"] = " | ".join(_quote(t) for t, _ in terms[: len(terms) - need + 1])
            params["terms"] = [t for t, _ in terms]
            params["need"] = need
            params["window"] = self.similar_window
            alternatives.append(sql.SQL(
                "SELECT letter_id FROM (SELECT letter_id, content FROM {} ORDER BY {} "
                "LIMIT %(window)s) w WHERE content @@ %(any_term)s::tsquery AND length(content) "
                "- length(ts_delete(content, %(terms)s::text[])) >= %(need)s"
            ).format(self._table, NEWEST))
        if people:
            params["people"] = " | ".join(_quote(key_lexeme(n, k)) for n, k in people)
            alternatives.append(sql.SQL(
                "SELECT letter_id FROM {} WHERE grams @@ %(people)s::tsquery").format(self._table))
            scores.append(
                sql.SQL("(content @@ %(people)s::tsquery)::int * {}").format(
                    sql.Literal(float(SIMILAR_PERSON_BOOST))
                )
            )
        keys = filter_query(filters)
        where, extra = self._where(filters, keys, keys)
        params.update(extra)
        where = sql.SQL("letter_id <> %(exclude)s AND letter_id IN ({}) AND {}").format(
            sql.SQL(" UNION ").join(alternatives), where
        )
        score = sql.SQL("({})::real").format(sql.SQL(" + ").join(scores))
        return self._run(score, where, params, limit, by_date=False)

    def close(self) -> None:
        """Close the database connection."""
        with self._thread_lock:
            self._conn.close()


def _row(record: S.Record) -> tuple[Any, ...]:
    """A COPY row for one record, in the order of COLUMNS."""
    found = S.record_tokens(record)
    facets = tuple(record.exact[name][0] if record.exact[name] else None for name in S.FACET_FIELDS)
    people = [f"{name}={key}" for name in S.PERSON_FIELDS for key in record.exact[name]]
    return (
        record.letter_id,
        tsvector_literal(record, found),
        grams_literal(record, found),
        record.text.encode("utf-8", "surrogatepass"),
        record.received,
        record.case_id,
        *facets,
        people,
    )


def _facet_counts(facets: Sequence[str], source: str, where: sql.Composable) -> sql.Composable:
    """Select-list items counting each facet field's values in ``source`` rows ``where``."""
    return sql.SQL("").join(
        sql.SQL(
            ", (SELECT coalesce(json_object_agg(k, c), '{{}}') FROM "
            "(SELECT {f} AS k, count(*) AS c FROM {source} WHERE {where} AND {f} IS NOT NULL "
            "GROUP BY {f}) x)"
        ).format(f=sql.Identifier(name), source=sql.Identifier(source), where=where)
        for name in facets
        if name in S.FACET_FIELDS
    )


def _facets(fields: Sequence[str], values: Sequence[Any]) -> dict[str, dict[str, int]]:
    """Facet counts as read (one JSON object per field), most frequent first."""
    return {
        name: dict(sorted(((str(k), int(v)) for k, v in value.items()), key=_by_count))
        for name, value in zip(fields, values, strict=True)
    }


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
