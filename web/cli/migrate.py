"""`huiyin migrate-db --from URL --to URL`: move an office's records to another database.

Typically from the embedded SQLite file to PostgreSQL when the office outgrows it (DESIGN.md's
scale-out path). The target is created (PostgreSQL) and migrated, must be empty, receives every
table, and is then checked table by table: row counts and content hashes equal. The originals,
the index and the replies stay in the instance folder; afterwards set ``database_url``.
"""

from __future__ import annotations

import click

from records.transfer import TransferReport
from web.cli.common import emit, fail, json_option
from web.services.migration import MigrationError, migrate_database, shown_url


@click.command("migrate-db")
@click.option("--from", "source_url", required=True, metavar="URL",
              help="The database now in use, e.g. sqlite:////srv/huiyin/huiyin.db.")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="An empty database, e.g. postgresql+psycopg://huiyin@/huiyin (created when "
                   "missing).")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1),
              help="Rows per insert.")
@json_option
def migrate_db(source_url: str, target_url: str, batch: int, as_json: bool) -> None:
    """Copy every record from one database to another (empty) one and check the copy."""
    def progress(table: str, done: int, total: int) -> None:
        if not as_json and total:
            click.echo(f"\r{table}: {done}/{total}", nl=done >= total, err=True)

    try:
        report = migrate_database(source_url, target_url, batch=batch, progress=progress)
    except MigrationError as e:
        fail(str(e))
    document = {"from": shown_url(source_url), "to": shown_url(target_url), **report.as_dict()}
    emit(as_json, document, lambda: _print(report, target_url))
    if not report.ok:
        raise SystemExit(1)


def _print(report: TransferReport, target_url: str) -> None:
    width = max(len(t.table) for t in report.tables)
    for t in report.tables:
        mark = "ok" if t.ok else "DIFFERS"
        click.echo(f"{t.table:<{width}}  {t.source_rows:>8} -> {t.target_rows:<8} "
                   f"{t.target_sha256[:16]}  {mark}")
    if report.ok:
        click.echo(f"{report.rows} rows copied and checked. Now set database_url = "
                   f"\"{shown_url(target_url)}\" in the instance's config.toml.")
    else:
        click.echo("The copy differs from the source: do not switch to it.", err=True)
