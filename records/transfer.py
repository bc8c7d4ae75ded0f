"""Moving an office's records from one database to another (SQLite -> PostgreSQL, or back).

The target is brought to the newest migration and must be empty; every table of the models is
copied in foreign-key order, in batches, with its ids; PostgreSQL sequences are then set past
the copied ids. Verification reads both sides again: per table the row count and a SHA-256 of
the rows in primary-key order, each value normalised (dates ISO 8601, JSON with sorted keys,
booleans as true/false), so equal hashes mean equal contents whatever the engine.

    report = copy_records(Database(source_url), Database(target_url))
    report.ok   # every table: same count, same hash
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Connection, String, Table, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from records.db import Database
from records.models import Base

BATCH = 1000
Progress = Callable[[str, int, int], None]  # table, rows copied, rows in the table


class TransferError(Exception):
    """The copy cannot start or did not finish; nothing is left half-done in the target."""


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides: row counts and content hashes."""

    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "source_rows": self.source_rows,
                "target_rows": self.target_rows, "source_sha256": self.source_sha256,
                "target_sha256": self.target_sha256, "ok": self.ok}


@dataclass
class TransferReport:
    """What was copied and how it checked out."""

    tables: list[TableCheck] = field(default_factory=list)
    sequences_reset: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.tables)

    @property
    def rows(self) -> int:
        return sum(check.target_rows for check in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "tables": [t.as_dict() for t in self.tables],
                "sequences_reset": self.sequences_reset}


def tables() -> list[Table]:
    """The models' tables, parents before children (foreign-key order)."""
    return list(Base.metadata.sorted_tables)


def copy_records(source: Database, target: Database, *, batch: int = BATCH,
                 progress: Progress | None = None) -> TransferReport:
    """Copy every table from source to an empty target at the newest schema, then verify."""
    if not source.is_current():
        raise TransferError("the source database is not at the current schema: run "
                            "`huiyin init` on its instance first (it only adds, never removes)")
    target.upgrade()
    with target.engine.connect() as connection:
        occupied = [(t.name, n) for t in tables() if (n := _count(connection, t))]
    if occupied:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in occupied)
        raise TransferError(f"the target database is not empty: {listed}; give an empty one")
    with source.engine.connect() as connection:
        _check_lengths(connection, target)
    report = TransferReport()
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in tables():
            _copy_table(reading, writing, table, batch, progress)
        if writing.dialect.name == "postgresql":
            report.sequences_reset = reset_sequences(writing)
    report.tables = verify(source, target)
    return report


def verify(source: Database, target: Database) -> list[TableCheck]:
    """Row counts and content hashes of every table, on both sides."""
    checks = []
    with source.engine.connect() as left, target.engine.connect() as right:
        for table in tables():
            rows_a, sha_a = table_digest(left, table)
            rows_b, sha_b = table_digest(right, table)
            checks.append(TableCheck(table.name, rows_a, rows_b, sha_a, sha_b))
    return checks


def table_digest(connection: Connection, table: Table) -> tuple[int, str]:
    """The number of rows and the SHA-256 of their normalised values in primary-key order."""
    digest = hashlib.sha256()
    rows = 0
    for row in _rows(connection, table, BATCH):
        values = [_normal(value, column) for value, column in zip(row, table.columns,
                                                                   strict=True)]
        digest.update(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())
        digest.update(b"\n")
        rows += 1
    return rows, digest.hexdigest()


def _normal(value: Any, column: Column[Any]) -> Any:
    """One value as the same JSON whatever engine it was read from."""
    if value is None:
        return None
    if isinstance(column.type, JSON):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return repr(float(value))
    return value


def _rows(connection: Connection, table: Table, batch: int) -> Iterator[Any]:
    """Every row in primary-key order; text keys in code-point order on both engines."""
    keys = [
        column.collate("C") if connection.dialect.name == "postgresql"
        and isinstance(column.type, String) else column
        for column in table.primary_key.columns
    ]
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(
        select(table).order_by(*keys)
    )
    for partition in result.partitions(batch):
        yield from partition


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _self_references(table: Table) -> list[Column[Any]]:
    """Nullable columns pointing into their own table (unit.parent_id, reply.superseded_by)."""
    return [fk.parent for fk in table.foreign_keys
            if fk.column.table is table and fk.parent.nullable]


def _copy_table(reading: Connection, writing: Connection, table: Table, batch: int,
                progress: Progress | None) -> None:
    """Insert a table's rows in batches; self-references are set once every row is there."""
    total = _count(reading, table)
    deferred = _self_references(table)
    later: list[dict[str, Any]] = []
    done = 0
    chunk: list[dict[str, Any]] = []
    for row in _rows(reading, table, batch):
        values = dict(row._mapping)
        if deferred and any(values[c.name] is not None for c in deferred):
            later.append({**{c.name: values[c.name] for c in table.primary_key.columns},
                          **{c.name: values[c.name] for c in deferred}})
            values.update({c.name: None for c in deferred})
        chunk.append(values)
        if len(chunk) >= batch:
            done += _insert(writing, table, chunk)
            chunk = []
            if progress:
                progress(table.name, done, total)
    done += _insert(writing, table, chunk)
    for values in later:
        keys = [c == values[c.name] for c in table.primary_key.columns]
        writing.execute(update(table).where(*keys).values(
            {c.name: values[c.name] for c in deferred}))
    if progress:
        progress(table.name, done, total)


def _insert(writing: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    try:
        writing.execute(insert(table), rows)
    except DBAPIError as e:
        first = rows[0].get("id", "")
        raise TransferError(f"copying table {table.name} (rows from id {first}) failed: "
                            f"{str(e.orig).strip().splitlines()[0]}") from e
    return len(rows)


def _check_lengths(source: Connection, target: Database) -> None:
    """SQLite keeps any text length; PostgreSQL enforces VARCHAR(n): name what will not fit."""
    if target.dialect == "sqlite":
        return
    too_long = []
    for table in tables():
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                over = source.execute(
                    select(func.count()).select_from(table)
                    .where(func.length(column) > column.type.length)
                ).scalar_one()
                if over:
                    too_long.append(f"{table.name}.{column.name}: {over} value(s) longer than "
                                    f"{column.type.length} characters")
    if too_long:
        raise TransferError("the target enforces text lengths the source does not: "
                            + "; ".join(too_long))


def reset_sequences(writing: Connection) -> list[str]:
    """PostgreSQL: set each serial id's sequence past the ids in its table, so new rows get
    fresh ones after rows were inserted with explicit ids (a copy, a bulk load). Elsewhere
    nothing to do."""
    if writing.dialect.name != "postgresql":
        return []
    reset = []
    for table in tables():
        primary = list(table.primary_key.columns)
        if len(primary) != 1 or not primary[0].autoincrement or primary[0].foreign_keys:
            continue
        name = writing.dialect.identifier_preparer.quote(table.name)
        sequence = writing.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                   {"table": name, "column": primary[0].name}).scalar()
        if sequence is None:
            continue
        column = writing.dialect.identifier_preparer.quote(primary[0].name)
        writing.execute(text(
            f"SELECT setval(:sequence, coalesce((SELECT max({column}) FROM {name}), 0) + 1, "
            "false)"), {"sequence": sequence})
        reset.append(str(sequence))
    return reset
