"""The `huiyin` command line: a thin layer that parses options, calls the packages, reports.

Exit status: 0 success, 1 some inputs failed (each said on stderr and in the JSON), 2 usage.
Commands of one area live beside it (cli_replies, cli_index, bench/); this module joins them.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
from pathlib import Path
from typing import Any

import click

from records import CHANNELS
from web.bench import bench
from web.cli import backup as cli_backup
from web.cli import cases as cli_cases
from web.cli import index as cli_index
from web.cli import migrate as cli_migrate
from web.cli import register as cli_register
from web.cli import replies as cli_replies
from web.cli import units as cli_units
from web.cli.common import (
    ACTOR,
    DATE,
    CliContext,
    HuiyinGroup,
    emit,
    fail,
    json_option,
    pass_ctx,
    progress_line,
)
from web.services.instance import default_home


@click.group(cls=HuiyinGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instance folder (default: $HUIYIN_HOME, else ./instance).")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Huiyin 回音: records and replies for a petition office (信访办)."""
    state = CliContext(home or default_home())
    ctx.obj = state
    ctx.call_on_close(state.close)


@main.command()
@click.option("--demo", is_flag=True, help="Add the sample letters (made by Huiyin itself).")
@click.option("--office-name", default=None, help="The issuing office printed on replies.")
@click.option("--office-phone", default=None, help="The contact telephone printed on replies.")
@click.option("--public-url", default=None,
              help="The address citizens open the verification page at (the QR code's).")
@json_option
@pass_ctx
def init(ctx: CliContext, demo: bool, office_name: str | None, office_phone: str | None,
         public_url: str | None, as_json: bool) -> None:
    """Create the instance: database, blob store, search index, signing certificate.

    Safe to run again: it also brings an existing instance to the current schema. Outside the
    demo it asks (at a terminal) for the office's name, telephone and public address.
    """
    from web.services import demo as demo_data
    from web.services.replies import SELF_SIGNED_NOTICE, ensure_office_certificate
    from web.services.settings import load_settings, save_settings, setup_problems

    ctx.home.mkdir(parents=True, exist_ok=True)
    given = {"office_name": office_name, "office_phone": office_phone, "public_url": public_url}
    changes: dict[str, Any] = {k: v.strip() for k, v in given.items() if v and v.strip()}
    if demo:
        changes["demo"] = True
    elif sys.stdin.isatty() and not as_json:
        current = load_settings(ctx.home)
        for name, question in (("office_name", "发文机关（答复上的单位名称）"),
                               ("office_phone", "答复上的联系电话"),
                               ("public_url", "群众访问验证页面的网址（如 https://xf.example.gov.cn）")):
            if name not in changes and (name == "office_name" or not current[name]):
                answer = click.prompt(question, default=current[name] or "", show_default=True)
                if answer.strip():
                    changes[name] = answer.strip()
    if changes:
        save_settings(ctx.home, changes)
    instance = ctx.instance(ready=False)
    instance.create()
    for problem in setup_problems(instance.settings):
        click.echo(f"注意：{problem}", err=True)
    had_certificate = (instance.home / "signing" / "office.p12").is_file()
    certificate = ensure_office_certificate(instance)
    if not had_certificate:
        click.echo(SELF_SIGNED_NOTICE.format(path=certificate), err=True)
    added = demo_data.load(instance, progress=progress_line) if demo else []
    if added:
        click.echo(f"demo sign-ins: {', '.join(u[0] for u in demo_data.USERS)}, password "
                   f"{demo_data.DEMO_PASSWORD!r} (demo only)", err=True)
    document = {"home": str(instance.home), "database": instance.database_url,
                "certificate": str(certificate), "demo_letters": added}
    emit(as_json, document, lambda: click.echo(
        f"Instance ready at {instance.home}"
        + (f" with {len(added)} demo letters" if demo else "")
    ))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Web processes (default: one per core, at least 2).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads in each web process.")
@pass_ctx
def serve(ctx: CliContext, host: str, port: int, processes: int | None, threads: int) -> None:
    """Serve the web application, with one background worker beside it."""
    from web.app import server
    from web.worker.queue import QueueError, open_queue

    instance = ctx.instance()  # a clear message now if the folder is not an instance
    try:
        open_queue(instance).close()  # and if the worker could not take work
    except QueueError as e:
        fail(str(e))
    _log_to_stderr()
    from web.services.settings import setup_problems

    for problem in setup_problems(instance.settings):
        click.echo(f"警告：{problem}（在 {ctx.home / 'config.toml'} 中设置）", err=True)
    processes = processes or server.default_processes()
    click.echo(f"Huiyin on http://{host}:{port}/  ({processes} processes x {threads} threads; "
               "Ctrl+C stops)")
    sys.exit(server.serve(ctx.home, host, port, processes=processes, threads=threads))


def _log_to_stderr() -> None:
    import logging

    from records.privacy import MaskingFilter

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for handler in logging.getLogger().handlers:  # file names may hold ID or phone numbers
        handler.addFilter(MaskingFilter())


@main.command()
@click.option("--once", is_flag=True,
              help="Drain the queue and the watched folder, then exit (for scripts and tests).")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between looks at the queue and the watched folder.")
@click.option("--lease", default=300.0, show_default=True, type=click.FloatRange(1, 86400),
              help="Seconds a task stays this worker's without news (renewed every page); "
                   "a worker killed mid-task has its task retried by another after that.")
@json_option
@pass_ctx
def worker(ctx: CliContext, once: bool, poll: float, lease: float, as_json: bool) -> None:
    """Run a background worker alone: OCR and index scans, take the watched folder's files.

    The work comes from the queue the instance's settings name (queue_url): the database,
    or Redis for workers on several machines.
    """
    import datetime as dt
    import threading

    from web.worker import Worker
    from web.worker.queue import QueueError

    instance = ctx.instance()
    _log_to_stderr()
    try:
        runner = Worker(instance, poll_s=poll, lease=dt.timedelta(seconds=lease))
    except QueueError as e:
        fail(str(e))
    if once:
        counts = runner.drain()
        emit(as_json, {"done": counts.get("done", 0), "failed": counts.get("failed", 0)},
             lambda: click.echo(f"{counts.get('done', 0)} task(s) done, "
                                f"{counts.get('failed', 0)} failed", err=True))
        if counts.get("failed"):
            sys.exit(1)  # some inputs failed: each reason is in the log and in failed/
        return
    stop = threading.Event()
    handlers = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"worker {runner.worker_id} on {instance.home} (Ctrl+C stops)", err=True)
    try:
        runner.run(stop)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--channel", type=click.Choice(CHANNELS), default="letter", show_default=True,
              help="How the items came: letter, visit, phone, mailbox (领导信箱) or online.")
@json_option
@pass_ctx
def ingest(ctx: CliContext, paths: tuple[Path, ...], channel: str, as_json: bool) -> None:
    """Register scans (PDF, TIFF, PNG, JPEG; folders recurse): store, OCR, index."""
    from web.services.pipeline import ingest as run_ingest

    instance = ctx.instance()
    results = []
    for result in run_ingest(instance, paths, actor=ACTOR, channel=channel):
        results.append(result.as_dict())
        if result.error:
            click.echo(f"{result.file}: {result.error}", err=True)
        elif not as_json:
            click.echo(_describe_ingest(result.as_dict()))
            if result.warning:  # e.g. a blank page: registered, but worth a look
                click.echo(f"{result.file}: {result.warning}", err=True)
    emit(as_json, {"results": results}, lambda: None)
    if any(r["error"] for r in results):
        sys.exit(1)


def _describe_ingest(r: dict[str, Any]) -> str:
    if r["duplicate_of"]:
        return f"{r['file']}: already registered as letter {r['reg_no']} (id {r['duplicate_of']})"
    return (f"{r['file']}: letter {r['reg_no']} (id {r['letter_id']}), "
            f"{r['pages']} page(s), {r['chars']} characters")


@main.command("ocr")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--engine", default=None, help="OCR engine (default: the configured one).")
@json_option
def ocr_command(file: Path, engine: str | None, as_json: bool) -> None:
    """OCR only, nothing stored: pages -> lines (text, box, score)."""
    import ocr

    if engine is not None and engine not in ocr.engine_names():
        raise click.BadParameter(f"choose one of {', '.join(ocr.engine_names())}",
                                 param_hint="--engine")
    name = engine or ocr.DEFAULT_ENGINE
    if not file.is_file():
        fail(f"{file}: no such file")
    try:
        pages: list[dict[str, Any]] = [
            {"page": p.number, "width": p.width, "height": p.height, "source": p.source,
             "rotation": p.rotation, "lines": [line.as_dict() for line in p.lines]}
            for p in ocr.read_pages(file, engine=name)
        ]
    except ocr.OcrError as e:
        click.echo(f"{file}: {e}", err=True)
        sys.exit(1)
    emit(as_json, {"file": str(file), "engine": name, "pages": pages}, lambda: click.echo(
        "\n\n".join("\n".join(line["text"] for line in p["lines"]) for p in pages)
    ))


@main.command()
@click.argument("query", required=False, default="")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--township", default=None, help="Only letters from this township.")
@click.option("--category", default=None, help="Only letters of this category.")
@click.option("--status", default=None, help="Only letters whose case is at this stage.")
@click.option("--unit", default=None, help="Only letters whose case this unit handles.")
@click.option("--from", "received_from", type=DATE, default=None,
              help="Received on or after this day.")
@click.option("--to", "received_to", type=DATE, default=None,
              help="Received on or before this day.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True)
@click.option("--id-number", default=None, help="All letters from the person with this ID.")
@click.option("--phone", default=None, help="All letters from the person with this phone.")
@click.option("--name", default=None, help="All letters from this name (with --township).")
@json_option
@pass_ctx
def search(ctx: CliContext, query: str, limit: int, township: str | None,
           category: str | None, status: str | None, unit: str | None,
           received_from: dt.datetime | None, received_to: dt.datetime | None, sort: str,
           id_number: str | None, phone: str | None, name: str | None, as_json: bool) -> None:
    """Search the letters (hits with highlighted snippets), or all letters from one person."""
    import search as search_pkg
    from web.services import access, letter_search

    person = bool(id_number or phone or name)
    if person == bool(query):
        raise click.UsageError("give either a query or a person (--id-number, --phone, --name)")
    instance = ctx.instance()
    try:
        if person:
            found = instance.index.letters_from(id_number=id_number, phone=phone, name=name,
                                                township=township, limit=limit)
            total, shown = found.total, list(found.hits)
        else:
            filters = {"township": township, "category": category, "status": status,
                       "unit": unit, "received_from": received_from.date() if received_from
                       else None, "received_to": received_to.date() if received_to else None}
            result = letter_search.search_letters(instance, access.console(ACTOR), query,
                                                  filters, sort=sort, limit=limit, via="cli")
            total, shown = result.total, result.hits
    except search_pkg.QueryError as e:
        fail(str(e))
    hits = [{"letter_id": h.letter_id, "score": round(h.score, 4), "snippet": h.snippet}
            for h in shown]
    emit(as_json, {"query": query, "total": total, "hits": hits}, lambda: click.echo(
        f"{total} letter(s)\n" + "\n".join(
            f"  {h['letter_id']:>6}  {h['snippet']}" for h in hits)
    ))


@main.command()
@click.option("--repair", is_flag=True,
              help="Mend what needs no decision: bring the index in step with the records, "
                   "delete originals nothing names and dead writers' temporary files.")
@click.option("--min-age", "min_age", default=3600.0, show_default=True,
              type=click.FloatRange(0), help="With --repair: seconds an unnamed original must "
              "have lain untouched (one being stored right now is not garbage yet).")
@json_option
@pass_ctx
def check(ctx: CliContext, repair: bool, min_age: float, as_json: bool) -> None:
    """Check that the database, the originals and the index agree (exit 1 if not)."""
    from web.services.consistency import check as run_check
    from web.services.consistency import remove_garbage
    from web.services.indexing import check_index

    instance = ctx.instance()
    repaired: dict[str, int] = {}
    if repair:
        drift = check_index(instance, repair=True)
        repaired = {"indexed": len(drift.missing), "unindexed": len(drift.orphans),
                    **remove_garbage(instance, min_age_s=min_age)}
    report = run_check(instance)
    document = {**report.as_dict(), **({"repaired": repaired} if repair else {})}

    def human() -> None:
        click.echo(f"{report.letters} letter(s): " + ("consistent" if report.ok else "PROBLEMS"))
        if repaired:
            click.echo("  repaired: " + ", ".join(f"{k} {v}" for k, v in repaired.items()))
        for key in report.problems:
            if key == "upgrade_pending" and report.upgrade_pending is not None:
                click.echo(f"  {key}: {report.upgrade_pending.message}")
                continue
            value = document[key]
            shown = ", ".join(map(str, value[:20])) if isinstance(value, list) else str(value)
            click.echo(f"  {key}: {shown} — {document['repairs'][key]}")  # type: ignore[index]
        if report.orphan_blobs or report.temporary_files:
            click.echo(f"  harmless leftovers: {len(report.orphan_blobs)} original(s) nothing "
                       f"names, {report.temporary_files} temporary file(s) of killed writers "
                       "(`huiyin check --repair` removes them)")

    emit(as_json, document, human)
    if not report.ok:
        sys.exit(1)


for command in (cli_replies.reply, cli_replies.sign_command, cli_replies.verify,
                cli_replies.letters_command,
                cli_replies.delivered, cli_replies.certificate_group,
                cli_index.reindex, cli_cases.cases_command, cli_cases.case_group,
                cli_cases.stats_command, cli_cases.query_tries_command,
                cli_cases.supervision_command, cli_units.unit_group,
                cli_units.user_group, cli_units.route_group, cli_register.register,
                cli_register.reception_group,
                cli_backup.backup, cli_backup.restore, cli_migrate.migrate_db, bench):
    main.add_command(command)
