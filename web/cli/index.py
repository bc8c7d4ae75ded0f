"""Index commands: rebuild the search index from the database, or check and repair it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from web.cli.common import CliContext, emit, fail, json_option, pass_ctx


@contextmanager
def _bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None]]:
    """A click progress bar fed (done, total); silent when disabled (--json)."""
    if not enabled:
        yield lambda done, total: None
        return
    state = {"shown": 0}
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            bar.__enter__()
            bars.append(bar)
        bars[0].update(done - state["shown"])
        state["shown"] = done

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


@click.command()
@click.option("--check", "check_only", is_flag=True, help="report drift between database and index")
@click.option("--repair", is_flag=True, help="with --check: add missing letters, drop orphans")
@click.option("--restart", is_flag=True, help="start over instead of resuming an interrupted run")
@click.option("--upgrade", is_flag=True,
              help="bring an index written by an older version up to this version's content, "
                   "in place (resumes an interrupted upgrade; the index stays searchable)")
@json_option
@pass_ctx
def reindex(ctx: CliContext, check_only: bool, repair: bool, restart: bool, upgrade: bool,
            as_json: bool) -> None:
    """Rebuild the search index from the database (resumes an interrupted run)."""
    from search import SearchError
    from web.services.indexing import check_index, read_checkpoint
    from web.services.indexing import reindex as run_reindex

    instance = ctx.instance()
    if repair and not check_only:
        raise click.UsageError("--repair goes with --check")
    if upgrade and (check_only or restart):
        raise click.UsageError("--upgrade goes alone (not with --check or --restart)")
    try:
        if upgrade:
            _upgrade(instance, as_json)
            return
        if check_only:
            with _bar(not as_json and repair, "repairing") as progress:
                drift = check_index(instance, repair=repair, progress=progress)
            document = drift.as_dict()

            def human() -> None:
                state = "in step" if drift.ok else ("repaired" if drift.repaired else "DRIFT")
                click.echo(f"{drift.letters} letter(s), {drift.indexed} indexed: {state}")
                if drift.missing:
                    click.echo(f"  not in the index: {', '.join(map(str, drift.missing[:20]))}")
                if drift.orphans:
                    click.echo(f"  not in the database: {', '.join(map(str, drift.orphans[:20]))}")
                if drift.reindex_pending:
                    click.echo("  an interrupted reindex is pending: run `huiyin reindex`")
                if drift.upgrade_pending:
                    click.echo(f"  {drift.upgrade_pending.message}")

            emit(as_json, document, human)
            if not drift.ok and not drift.repaired:
                sys.exit(1)
            return
        resumed_from = None if restart else read_checkpoint(instance)
        with _bar(not as_json, "indexing") as progress:
            count = run_reindex(instance, progress=progress, resume=not restart)
    except SearchError as e:
        fail(str(e))
    emit(
        as_json,
        {"indexed": count, "resumed_after": resumed_from},
        lambda: click.echo(
            f"{count} letter(s) indexed"
            + (f" (resumed after letter {resumed_from})" if resumed_from else "")
        ),
    )


def _upgrade(instance: Any, as_json: bool) -> None:
    """`huiyin reindex --upgrade`: the workers' index-upgrade, run now, with its progress."""
    from web.services.indexing import upgrade_now

    with _bar(not as_json, "upgrading") as progress:
        done = upgrade_now(instance, progress)
    emit(as_json, {**done.as_dict(), "message": done.message}, lambda: click.echo(done.message))
