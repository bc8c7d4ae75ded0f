"""Index commands: rebuild the search index from the database."""

from __future__ import annotations

import click

from web.cli_common import CliContext, emit, json_option, pass_ctx, progress_line


@click.command()
@json_option
@pass_ctx
def reindex(ctx: CliContext, as_json: bool) -> None:
    """Rebuild the search index from the database."""
    from web.indexing import reindex as run_reindex

    count = run_reindex(ctx.instance(), progress=None if as_json else progress_line)
    emit(as_json, {"indexed": count}, lambda: click.echo(f"\n{count} letter(s) indexed"))
