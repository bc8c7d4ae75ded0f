"""Case commands: the due and overdue lists, one case, opening, linking, workflow actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from records import Case, audit, cases, intake
from records.calendar import WorkCalendar
from records.workflow import ACTION_LABELS, DECISIONS, STAGE_LABELS, Stage, allowed_actions
from web.cli_common import ACTOR, CliContext, emit, json_option, pass_ctx


def case_summary(case: Case, calendar: WorkCalendar, today: dt.date) -> dict[str, Any]:
    """What a list of cases shows: number, stage, the clock that matters, flags."""
    clock = cases.deadline(case, calendar)
    return {
        "case_id": case.id,
        "case_no": case.case_no,
        "title": case.title,
        "stage": case.status,
        "stage_label": STAGE_LABELS[Stage(case.status)],
        "unit": case.unit.name if case.unit else None,
        "deadline": None if clock is None else {
            "what": clock.what, "due": clock.due.isoformat(), "kind": clock.kind,
            "days_left": clock.days_left(today), "overdue": clock.overdue(today),
        },
        "flags": case.flags,
    }


@click.command("cases")
@click.option("--overdue", is_flag=True, help="Only cases past an office deadline.")
@click.option("--due-soon", "due_soon", type=int, default=None, metavar="DAYS",
              help="Only cases with an office deadline within DAYS days.")
@json_option
@pass_ctx
def cases_command(ctx: CliContext, overdue: bool, due_soon: int | None, as_json: bool) -> None:
    """Open cases with an office deadline running (overdue first)."""
    instance = ctx.instance()
    today = instance.today()
    with instance.db.session() as session:
        rows = cases.due(session, instance.calendar, today, within_days=due_soon,
                         overdue_only=overdue)
        listed = [case_summary(case, instance.calendar, today) for case, _ in rows]

    def human() -> None:
        for c in listed:
            d = c["deadline"]
            mark = "逾期" if d["overdue"] else f"剩 {d['days_left']} 天"
            click.echo(f"{c['case_no']}  {c['stage_label']:<6} {d['due']} {mark:<8} {c['title']}")
        click.echo(f"{len(listed)} case(s)")

    emit(as_json, {"today": today.isoformat(), "cases": listed}, human)


@click.group("case")
def case_group() -> None:
    """One case: show, open from a letter, link a letter, take a workflow action."""


@case_group.command("show")
@click.argument("case_ref")
@json_option
@pass_ctx
def show(ctx: CliContext, case_ref: str, as_json: bool) -> None:
    """A case with its letters, clock, allowed actions and timeline."""
    instance = ctx.instance()
    with instance.db.session() as session:
        case = cases.get_case(session, case_ref)
        document = case_summary(case, instance.calendar, instance.today())
        document["letters"] = [{"letter_id": letter.id, "reg_no": letter.reg_no,
                                "received_on": letter.received_on.isoformat()}
                               for letter in case.letters]
        document["allowed_actions"] = allowed_actions(Stage(case.status))
        document["timeline"] = [
            {"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
             **e.detail} for e in audit.history(session, "case", case.id)
        ]

    def human() -> None:
        click.echo(f"{document['case_no']}  {document['stage_label']}  {document['title']}")
        if document["deadline"]:
            d = document["deadline"]
            click.echo(f"  {d['what']}：{d['due']}（剩 {d['days_left']} 天）")
        click.echo("  可以：" + "、".join(ACTION_LABELS[a] for a in document["allowed_actions"]))
        for e in document["timeline"]:
            what = ACTION_LABELS.get(e.get("step", ""), e["action"])
            click.echo(f"  {e['at']}  {e['actor']}  {what}  {e.get('reason') or ''}".rstrip())

    emit(as_json, document, human)


@case_group.command("open")
@click.argument("letter")
@click.option("--title", default="", help="A short title (default: the letter's summary).")
@json_option
@pass_ctx
def open_command(ctx: CliContext, letter: str, title: str, as_json: bool) -> None:
    """Open a new case from a letter (id or registration number)."""
    instance = ctx.instance()
    with instance.db.session() as session:
        case = cases.open_case(session, intake.find_letter(session, letter), actor=ACTOR,
                               title=title)
        document = case_summary(case, instance.calendar, instance.today())
    emit(as_json, document, lambda: click.echo(f"{document['case_no']} opened"))


@case_group.command("propose")
@click.argument("letter")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@json_option
@pass_ctx
def propose(ctx: CliContext, letter: str, limit: int, as_json: bool) -> None:
    """Cases a letter may belong to (same person, similar content), with reasons."""
    from web.linking import propose_cases

    instance = ctx.instance()
    with instance.db.session() as session:
        letter_id = intake.find_letter(session, letter).id
    found = propose_cases(instance, letter_id, limit=limit)
    proposals = [p.as_dict() for p in found]

    def human() -> None:
        for p in found:
            repeat = "  [重复信访]" if p.repeat else ""
            click.echo(f"{p.case_no}  {p.score:.2f}  {p.title}{repeat}")
            click.echo("    " + "；".join(p.reasons))
        if not found:
            click.echo("no earlier case looks related: open a new one")

    emit(as_json, {"letter_id": letter_id, "proposals": proposals}, human)


@case_group.command("link")
@click.argument("letter")
@click.argument("case_ref")
@click.option("--reason", default="", help="Why the letter belongs to this case.")
@json_option
@pass_ctx
def link(ctx: CliContext, letter: str, case_ref: str, reason: str, as_json: bool) -> None:
    """Link a letter to an existing case."""
    instance = ctx.instance()
    with instance.db.session() as session:
        the_letter = intake.find_letter(session, letter)
        case = cases.get_case(session, case_ref)
        cases.link_letter(session, the_letter, case, actor=ACTOR, reason=reason)
        document = {"letter_id": the_letter.id, "case_id": case.id, "case_no": case.case_no}
    emit(as_json, document, lambda: click.echo(f"{letter} → {document['case_no']}"))


@case_group.command("transition")
@click.argument("case_ref")
@click.argument("action", type=click.Choice(sorted(ACTION_LABELS)))
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day of the action (default: today).")
@click.option("--decision", type=click.Choice(DECISIONS), default=None,
              help="With reply: 支持, 解释说明 or 不予支持.")
@click.option("--days", "extension_days", type=int, default=30, show_default=True,
              help="With extend: how many days (at most 30).")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@pass_ctx
def transition(ctx: CliContext, case_ref: str, action: str, on: dt.datetime | None,
               decision: str | None, extension_days: int, reason: str, as_json: bool) -> None:
    """Take a workflow action on a case; illegal ones are refused with the reason."""
    from records.workflow import IllegalTransition

    instance = ctx.instance()
    day = on.date() if on else instance.today()
    with instance.db.session() as session:
        case = cases.get_case(session, case_ref)
        try:
            cases.transition(session, case, action, day, actor=ACTOR,
                             calendar=instance.calendar, reason=reason, decision=decision,
                             extension_days=extension_days)
        except IllegalTransition as e:
            raise click.ClickException(str(e)) from e
        document = case_summary(case, instance.calendar, instance.today())
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: {document['stage_label']}"))


@click.command("stats")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of receipt counted (default: 1 January this year).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of receipt counted (default: today).")
@click.option("--by", type=click.Choice(["month", "township", "unit"]), default=None,
              help="One set of rates per month of receipt, township or handling unit.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the table as CSV (UTF-8 with BOM, opens in Excel).")
@json_option
@pass_ctx
def stats_command(ctx: CliContext, start: dt.datetime | None, end: dt.datetime | None,
                  by: str | None, csv_path: Path | None, as_json: bool) -> None:
    """The office's rates (两个提高、三个降低 and more), each with its definition."""
    from records import stats

    instance = ctx.instance()
    today = instance.today()
    first = start.date() if start else dt.date(today.year, 1, 1)
    last = end.date() if end else today
    with instance.db.session() as session:
        facts = stats.case_facts(session, first, last, instance.calendar)
    groups = stats.grouped_rates(facts, by)
    document = {"from": first.isoformat(), "to": last.isoformat(), "by": by, "cases": len(facts),
                "groups": {name: [r.as_dict() for r in rates] for name, rates in groups.items()}}
    if csv_path is not None:
        _write_csv(csv_path, groups)

    def human() -> None:
        for name, rates in groups.items():
            click.echo(f"{name}（{first} 至 {last}）")
            for r in rates:
                shown = "—" if r.value is None else f"{r.value:.1%}"
                click.echo(f"  {r.name:<8} {shown:>7}  ({r.numerator}/{r.denominator})  "
                           f"{r.definition}")

    emit(as_json, document, human)


def _write_csv(path: Path, groups: dict[str, list[Any]]) -> None:
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["分组", "指标", "比率", "分子", "分母", "口径"])
        for name, rates in groups.items():
            for r in rates:
                writer.writerow([name, r.name, "" if r.value is None else r.value, r.numerator,
                                 r.denominator, r.definition])
