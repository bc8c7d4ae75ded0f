"""`huiyin backup DEST` and `huiyin restore SRC`: a consistent copy, and an instance from one."""

from __future__ import annotations

from pathlib import Path

import click

from web.cli.common import CliContext, emit, fail, json_option, pass_ctx


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@json_option
@pass_ctx
def backup(ctx: CliContext, dest: Path, as_json: bool) -> None:
    """Copy the database, originals, replies and settings to DEST (safe while serving)."""
    from web.services.backup import BackupError
    from web.services.backup import backup as run_backup

    try:
        manifest = run_backup(ctx.instance(), dest)
    except BackupError as e:
        fail(str(e))
    document = {"dest": str(dest), "files": len(manifest.files), "rows": manifest.rows}
    emit(as_json, document, lambda: click.echo(
        f"backup at {dest}: {len(manifest.files)} files, "
        f"{manifest.rows.get('letter', 0)} letters, {manifest.rows.get('case', 0)} cases"))


@click.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@json_option
@pass_ctx
def restore(ctx: CliContext, src: Path, as_json: bool) -> None:
    """Make the instance at --home (new or empty folder) from the backup SRC; rebuild its index."""
    from web.services.backup import BackupError
    from web.services.backup import restore as run_restore
    from web.services.consistency import check
    from web.services.indexing import reindex

    home = ctx.home
    try:
        manifest = run_restore(src, home)
    except BackupError as e:
        fail(str(e))
    instance = ctx.instance()
    instance.db.upgrade()  # a backup from an older release comes up to this one's schema
    indexed = reindex(instance, resume=False)
    report = check(instance)
    document = {"home": str(home), "files": len(manifest.files), "rows": manifest.rows,
                "indexed": indexed, "check": report.as_dict()}
    emit(as_json, document, lambda: click.echo(
        f"restored {len(manifest.files)} files into {home}; {indexed} letters indexed; "
        + ("consistent" if report.ok else "CHECK FAILED: run `huiyin check`")))
    if not report.ok:
        raise SystemExit(1)
