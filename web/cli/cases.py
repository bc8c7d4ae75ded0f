"""Case commands: due lists, one case, opening, linking, workflow, owners, 督办, 批示, 听证."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from records import (
    MEETING_KINDS,
    Case,
    Hearing,
    RecordsError,
    Unit,
    User,
    audit,
    cases,
    intake,
    kinds,
    settlements,
    units,
)
from records import supervision as supervising
from records.calendar import CalendarError, WorkCalendar
from records.models import RECEIPT_BASES, Instruction, Supervision
from records.workflow import ACTION_LABELS, DECISIONS, TOLD_WAYS
from web.cli.common import (
    ACTOR,
    DATE,
    CliContext,
    emit,
    fail,
    json_option,
    pass_ctx,
)
from web.services import case_actions, case_clock, public_query
from web.services.access import CONSOLE, console
from web.services.case_actions import Outcome
from web.services.case_view import case_row, jsonable
from web.services.instance import Instance
from web.services.urgent import RECIPIENTS, WAYS, urgent_list


def case_summary(case: Case, calendar: WorkCalendar, today: dt.date) -> dict[str, Any]:
    """What a list of cases shows (web.services.case_view.case_row), as JSON."""
    return jsonable(case_row(case, calendar, today))


@click.command("cases")
@click.option("--overdue", is_flag=True, help="Only cases past an office deadline.")
@click.option("--due-soon", "due_soon", type=int, default=None, metavar="DAYS",
              help="Only cases with an office deadline within DAYS days.")
@click.option("--unit", default=None, help="Only cases handled by this unit (督办 per unit).")
@click.option("--lead", default=None, metavar="USER",
              help="Only cases of this responsible leader (包案领导).")
@click.option("--urgent", is_flag=True,
              help="Open matters marked 重大紧急 (§25), with who has and has not been told.")
@json_option
@pass_ctx
def cases_command(ctx: CliContext, overdue: bool, due_soon: int | None, unit: str | None,
                  lead: str | None, urgent: bool, as_json: bool) -> None:
    """Open cases with an office deadline running (overdue first)."""
    instance = ctx.instance()
    today = instance.today()
    if urgent:
        _urgent_list(instance, as_json)
        return
    with instance.db.session() as session:
        unit_id = units.get_unit(session, unit).id if unit else None
        lead_id = units.get_user(session, lead).id if lead else None
        try:
            rows = cases.due(session, instance.calendar, today, within_days=due_soon,
                             overdue_only=overdue, unit_id=unit_id, lead_id=lead_id)
        except CalendarError as e:  # a deadline past the holiday table: the year to enter
            fail(str(e))
        listed = [case_summary(case, instance.calendar, today) for case, _ in rows]

    def human() -> None:
        for c in listed:
            d = c["deadline"]
            mark = "逾期" if d["overdue"] else f"剩 {d['days_left']} 天"
            click.echo(f"{c['case_no']}  {c['stage_label']:<6} {d['due']} {mark:<8} {c['title']}")
        click.echo(f"{len(listed)} case(s)")

    emit(as_json, {"today": today.isoformat(), "cases": listed}, human)


def _urgent_list(instance: Instance, as_json: bool) -> None:
    """`huiyin cases --urgent`: the leaders' list of §25 matters, as on the page."""
    rows = jsonable(urgent_list(instance, console(ACTOR)))

    def human() -> None:
        for c in rows:
            told = "、".join(t["recipient"] for t in c["urgent"]["reports"]) or "尚未报告"
            click.echo(f"{c['case_no']}  {c['stage_label']:<6} {c['urgent']['reason']}  "
                       f"已报告：{told}  未报告：{'、'.join(c['urgent']['untold']) or '无'}")
        click.echo(f"{len(rows)} urgent case(s)")

    emit(as_json, {"today": instance.today().isoformat(), "cases": rows}, human)


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
        document["agenda"] = case_clock.agenda_dict(instance, case)
        document["allowed_actions"] = [a["action"] for a in document["agenda"]["actions"]
                                       if a["allowed"]]
        lead = session.get(User, case.lead_id) if case.lead_id else None
        document["lead"] = lead.username if lead else None
        accused = session.get(Unit, case.accused_unit_id) if case.accused_unit_id else None
        document["accused"] = {"unit": accused.name if accused else None,
                               "person": case.accused_person}
        document["paused_days"] = case.paused_days
        document["kind"] = case_actions.kind_view(case)
        document["not_again"] = jsonable(case_actions.terminations(instance, session, case))
        items, orders = supervising.of_case(session, case)
        document["supervision"] = [supervision_dict(item) for item in items]
        document["instructions"] = [instruction_dict(order) for order in orders]
        document["hearings"] = [hearing_dict(h) for h in cases.hearings(session, case)]
        document["timeline"] = [
            {"at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
             **e.detail} for e in audit.history(session, "case", case.id)
        ]

    def human() -> None:
        click.echo(f"{document['case_no']}  {document['stage_label']}  {document['title']}")
        if document["deadline"]:
            d = document["deadline"]
            click.echo(f"  {d['what']}：{d['due']}（剩 {d['days_left']} 天）")
        agenda = document["agenda"]
        if agenda["error"]:
            click.echo(f"  {agenda['error']}")
        for d in agenda["deadlines"]:
            click.echo(f"  {d['what']}：{d['due']}（{d['article']}）")
        for note in agenda["notes"]:
            click.echo(f"  {note}")
        click.echo("  今天可以：" + "、".join(
            a["label"] for a in agenda["actions"] if a["allowed"]))
        for a in agenda["actions"]:
            if not a["allowed"]:
                click.echo(f"  不能{a['label']}：{a['reason']}")
        if document["unit"]:
            click.echo(f"  承办单位：{document['unit']}  包案领导：{document['lead'] or '—'}")
        if document["flags"]:
            click.echo("  标记：" + "、".join(document["flags"]))
        kind = document["kind"]
        click.echo(f"  事项性质：{kind['label']}（建议：{kind['proposed']['label']}，"
                   f"{kind['proposed']['reason']}）")
        for t in document["not_again"]:
            state = "已" if t["decided"] else "建议"
            click.echo(f"  来信 {t['reg_no']}：{state}依{t['article']}不予受理（{t['citing']}）")
        for h in document["hearings"]:
            paused = f"（{h['paused_days']} 天不计入复核期限）" if h["paused_days"] else ""
            click.echo(f"  {h['label']} {h['start_on']} 至 {h['end_on']}{paused} {h['note']}")
        for item in document["supervision"]:
            state = f"已办结 {item['resolved_on']}" if item["resolved_on"] else ""
            due = f"限 {item['due_on']}" if item["due_on"] else ""
            click.echo(f"  督办#{item['id']} {item['label']} {due} {item['text']} {state}".rstrip())
        for order in document["instructions"]:
            click.echo(f"  批示#{order['id']} {order['given_on']} {order['leader']}："
                       f"{order['text']}")
            for n, action in enumerate(order["actions"], 1):
                mark = f"✓ {action['done_on']}" if action["done_on"] else "未落实"
                click.echo(f"      {n}. {action['what']}  {mark}")
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
    case_id = case_actions.open_case(instance, letter, actor=ACTOR, title=title)
    document = _summary(instance, case_id)
    emit(as_json, document, lambda: click.echo(f"{document['case_no']} opened"))


@case_group.command("propose")
@click.argument("letter")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50))
@json_option
@pass_ctx
def propose(ctx: CliContext, letter: str, limit: int, as_json: bool) -> None:
    """Cases a letter may belong to (same person, similar content), with reasons."""
    from web.services.linking import propose_cases

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
    case_id = case_actions.link_letter(instance, letter, case_ref, actor=ACTOR, reason=reason)
    with instance.db.session() as session:
        document = {"letter_id": intake.find_letter(session, letter).id, "case_id": case_id,
                    "case_no": cases.get_case(session, case_id).case_no}
    emit(as_json, document, lambda: click.echo(f"{letter} → {document['case_no']}"))


@case_group.command("transition")
@click.argument("case_ref")
@click.argument("action", type=click.Choice(sorted(ACTION_LABELS)))
@click.option("--on", "on", type=DATE, default=None,
              help="The day of the action (default: today).")
@click.option("--decision", type=click.Choice(DECISIONS), default=None,
              help="With reply: 支持, 解释说明 or 不予支持.")
@click.option("--days", "extension_days", type=int, default=30, show_default=True,
              help="With ask_extension: how many days (at most 30).")
@click.option("--unit", default=None, help="With transfer or assign: the unit it goes to.")
@click.option("--lead", default=None, metavar="USER",
              help="With assign: the responsible leader (包案领导).")
@click.option("--told", type=click.Choice(TOLD_WAYS), default=None,
              help="A step made without its document: how the petitioner was told.")
@click.option("--note", default="", help="With --told 电话告知: the call (time, number, who).")
@click.option("--approved-by", "approved_by", default="",
              help="With extend: the organ's 负责人 who approved it (§34).")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@pass_ctx
def transition(ctx: CliContext, case_ref: str, action: str, on: dt.datetime | None,
               decision: str | None, extension_days: int, unit: str | None, lead: str | None,
               told: str | None, note: str, approved_by: str, reason: str,
               as_json: bool) -> None:
    """Take a workflow action on a case (web.services.case_actions, as the page does)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, action, on=_iso(on), reason=reason, decision=decision,
                   days=str(extension_days), unit=unit, lead=lead, told=told, note=note,
                   approved_by=approved_by)
    document = _summary(instance, outcome.case_id)
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: {document['stage_label']}"))


def _act(instance: Instance, case_ref: str, action: str, **form: str | None) -> Outcome:
    """One action through the same service as the pages and the API (the console's role)."""
    return case_actions.act_on(instance, case_ref, action,
                               {k: v for k, v in form.items() if v is not None},
                               actor=ACTOR, role=CONSOLE)


def _iso(value: dt.datetime | None) -> str | None:
    return value.date().isoformat() if value else None


def _summary(instance: Instance, case_id: int) -> dict[str, Any]:
    with instance.db.session() as session:
        return case_summary(cases.get_case(session, case_id), instance.calendar,
                            instance.today())


@case_group.command("receipt")
@click.argument("letter")
@click.argument("day", type=DATE)
@click.option("--basis", type=click.Choice(RECEIPT_BASES), required=True,
              help="Where the date was read: 邮戳 (postmark), 收文章 (date stamp) ...")
@click.option("--reason", required=True, help="Why it is corrected (kept in the audit log).")
@json_option
@pass_ctx
def receipt(ctx: CliContext, letter: str, day: dt.datetime, basis: str, reason: str,
            as_json: bool) -> None:
    """Enter or correct a letter's receipt date (收信日期); its case's clocks recount."""
    instance = ctx.instance()
    try:
        with instance.db.session() as session:
            document = case_clock.correct_receipt(instance, session, letter, day.date(),
                                                  basis=basis, reason=reason, actor=ACTOR)
    except RecordsError as e:
        raise click.ClickException(str(e)) from e
    emit(as_json, document, lambda: click.echo(
        f"{document['reg_no']}: 收信日期 {document['received_on']}（{document['basis']}）"))


SUPERVISION_LABELS = {"reminder": "催办", "note": "督办记录", "escalation": "挂牌督办"}
MEETING_LABELS = {"hearing": "听证", "joint_meeting": "联席会议"}


def supervision_dict(item: Supervision) -> dict[str, Any]:
    """One 督办 item as the CLI and JSON show it."""
    return {"id": item.id, "case_id": item.case_id, "kind": item.kind,
            "label": SUPERVISION_LABELS[item.kind], "text": item.text,
            "due_on": item.due_on.isoformat() if item.due_on else None, "by": item.by,
            "at": item.at.isoformat(timespec="seconds"),
            "resolved_on": item.resolved_on.isoformat() if item.resolved_on else None}


def instruction_dict(order: Instruction) -> dict[str, Any]:
    """One 批示 with its numbered actions."""
    return {"id": order.id, "leader": order.leader, "text": order.text,
            "given_on": order.given_on.isoformat(), "actions": order.actions,
            "done_on": order.done_on.isoformat() if order.done_on else None}


def hearing_dict(hearing: Hearing) -> dict[str, Any]:
    """One 听证 or 联席会议."""
    return {"id": hearing.id, "kind": hearing.kind, "label": MEETING_LABELS[hearing.kind],
            "start_on": hearing.start_on.isoformat(), "end_on": hearing.end_on.isoformat(),
            "note": hearing.note, "paused_days": hearing.paused_days}


@case_group.command("rate")
@click.argument("case_ref")
@click.argument("rating", type=click.Choice(cases.SATISFACTION))
@click.option("--way", type=click.Choice(case_actions.OFFICE_RATING_WAYS), required=True,
              help="How the petitioner gave it (网上 is the query page's own).")
@click.option("--note", default="", help="The petitioner's words, if any.")
@json_option
@pass_ctx
def rate(ctx: CliContext, case_ref: str, rating: str, way: str, note: str,
         as_json: bool) -> None:
    """Record the petitioner's evaluation of an answered matter (满意率 counts only these)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "rate", rating=rating, way=way, note=note)
    document = {"case_id": outcome.case_id, "rating": rating, "way": way,
                "message": outcome.message}
    emit(as_json, document, lambda: click.echo(outcome.message))


@case_group.command("classify")
@click.argument("case_ref")
@click.argument("kind", type=click.Choice(kinds.KINDS))
@click.option("--sub", default=None,
              help="申诉求决: the item of §31 (1-6, or 一 ... 六); 6 is 信访处理意见 proper.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@pass_ctx
def classify(ctx: CliContext, case_ref: str, kind: str, sub: str | None, reason: str,
             as_json: bool) -> None:
    """Set the kind of matter (§§29-31): what documents it takes, whether 复查/复核 exist."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "classify", kind=kind, sub=sub, reason=reason)
    document = {"case_id": outcome.case_id, **outcome.details, "message": outcome.message}
    emit(as_json, document, lambda: click.echo(outcome.message))


@case_group.command("not-again")
@click.argument("case_ref")
@click.argument("letter")
@click.option("--on", type=DATE, default=None, help="The day of the decision (default today).")
@json_option
@pass_ctx
def not_again(ctx: CliContext, case_ref: str, letter: str, on: dt.datetime | None,
              as_json: bool) -> None:
    """Not accept a later letter of an ended matter (§36 ¶3) or of one in hand (§19 ¶3)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "not_accept_letter", letter=letter, on=_iso(on))
    document = {"case_id": outcome.case_id, **outcome.details, "message": outcome.message}
    emit(as_json, document, lambda: click.echo(outcome.message))


@case_group.command("code")
@click.argument("case_ref")
@click.option("--new", "new", is_flag=True,
              help="Make a new code; the old one stops working (audited).")
@json_option
@pass_ctx
def code_command(ctx: CliContext, case_ref: str, new: bool, as_json: bool) -> None:
    """The petitioner's query code of a matter, to read out by phone (§21 ¶2)."""
    done = public_query.office_code(ctx.instance(), case_ref, actor=ACTOR, new=new)
    emit(as_json, done, lambda: click.echo(f"{done['case_no']}  查询码 {done['code']}  "
                                           f"查询网址 {done['url']}"))


@click.command("query-tries")
@click.option("--days", type=click.IntRange(1, 30), default=7, show_default=True,
              help="How many days back.")
@click.option("--prune", is_flag=True, help="First forget the tries older than 30 days.")
@json_option
@pass_ctx
def query_tries_command(ctx: CliContext, days: int, prune: bool, as_json: bool) -> None:
    """The public query page's wrong codes per (masked) address: guessing shows here."""
    instance = ctx.instance()
    pruned = public_query.prune_tries(instance) if prune else None
    tries = public_query.refused_tries(instance, days=days)

    def human() -> None:
        if pruned is not None:
            click.echo(f"pruned {pruned} old tries")
        for t in tries:
            click.echo(f"{t['last']}  {t['address']}  wrong {t['wrong']}  "
                       f"refused unchecked {t['limited']}  (since {t['first']})")

    emit(as_json, {"days": days, "pruned": pruned, "tries": tries}, human)


@case_group.command("flag")
@click.argument("case_ref")
@click.option("--add", "add", multiple=True, type=click.Choice(cases.FLAGS),
              help="A flag to set (repeatable).")
@click.option("--remove", "remove", multiple=True, type=click.Choice(cases.FLAGS),
              help="A flag to take off, e.g. one proposed from the text that is wrong.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@pass_ctx
def flag_command(ctx: CliContext, case_ref: str, add: tuple[str, ...], remove: tuple[str, ...],
                 reason: str, as_json: bool) -> None:
    """Set or remove 重复 / 越级 / 集体 / 联名 (越级 and 集体 are proposed from the letters)."""
    if not add and not remove:
        raise click.UsageError("give --add FLAG or --remove FLAG")
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "flag", add=",".join(add), remove=",".join(remove),
                   reason=reason)
    flags = [str(f) for f in outcome.details["flags"]]
    document = {"case_id": outcome.case_id, "case_no": _summary(instance, outcome.case_id)[
        "case_no"], "flags": flags}
    emit(as_json, document, lambda: click.echo(f"{case_ref}: {'、'.join(flags) or '无标记'}"))


@case_group.command("assign")
@click.argument("case_ref")
@click.option("--unit", required=True, help="The handling unit (承办单位).")
@click.option("--lead", default=None, metavar="USER", help="The responsible leader (包案领导).")
@click.option("--reason", required=True, help="Why this unit (kept in the audit log).")
@json_option
@pass_ctx
def assign(ctx: CliContext, case_ref: str, unit: str, lead: str | None, reason: str,
           as_json: bool) -> None:
    """Give a case its handling unit and leader, or reassign it; never to the accused (§30)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "owner", unit=unit, lead=lead, reason=reason)
    document = {"case_id": outcome.case_id, "case_no": _summary(instance, outcome.case_id)[
        "case_no"], "unit": outcome.details["unit"], "lead": lead}
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']} → {document['unit']}"
        + (f"（包案领导 {document['lead']}）" if document["lead"] else "")))


@case_group.command("accuse")
@click.argument("case_ref")
@click.option("--unit", default=None, help="The unit the letter accuses (检举、控告).")
@click.option("--person", default=None, metavar="NAME", help="The person it accuses.")
@json_option
@pass_ctx
def accuse(ctx: CliContext, case_ref: str, unit: str | None, person: str | None,
           as_json: bool) -> None:
    """Record whom a case accuses, so that it is never routed to them (§30)."""
    if not unit and not person:
        raise click.UsageError("give --unit U or --person NAME (or both)")
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "accuse", unit=unit, person=person)
    document = {"case_id": outcome.case_id, "case_no": _summary(instance, outcome.case_id)[
        "case_no"], "accused": {"unit": outcome.details["unit"], "person": person}}
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: 被检举 {unit or ''} {person or ''}".rstrip()))


@case_group.command("supervise")
@click.argument("case_ref")
@click.argument("kind", type=click.Choice(supervising.KINDS))
@click.argument("text")
@click.option("--due", type=DATE, default=None, help="The date the unit must answer by.")
@json_option
@pass_ctx
def supervise(ctx: CliContext, case_ref: str, kind: str, text: str, due: dt.datetime | None,
              as_json: bool) -> None:
    """督办: a reminder (催办), a note, or an escalation (挂牌督办) on a case."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "supervise", kind=kind, text=text, due=_iso(due))
    with instance.db.session() as session:
        item = session.get(Supervision, outcome.details["supervision_id"])
        assert item is not None
        document = {"case_no": cases.get_case(session, outcome.case_id).case_no,
                    **supervision_dict(item)}
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: {document['label']} #{document['id']}"))


@case_group.command("resolve")
@click.argument("case_ref")
@click.argument("item_id", type=int)
@click.option("--on", "on", type=DATE, default=None, help="The day it was answered (default: "
              "today).")
@json_option
@pass_ctx
def resolve(ctx: CliContext, case_ref: str, item_id: int, on: dt.datetime | None,
            as_json: bool) -> None:
    """A reminder or escalation has been answered: it leaves `huiyin supervision`."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "resolve", item=str(item_id), on=_iso(on))
    with instance.db.session() as session:
        case = cases.get_case(session, outcome.case_id)
        item = supervising.get_item(session, case, item_id)
        document = {"case_no": case.case_no, **supervision_dict(item)}
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: {document['label']} #{item_id} resolved"))


def _instruction(instance: Instance, case_id: int, instruction_id: int) -> dict[str, Any]:
    with instance.db.session() as session:
        case = cases.get_case(session, case_id)
        order = supervising.get_instruction(session, case, instruction_id)
        return {"case_no": case.case_no, **instruction_dict(order)}


@click.command("supervision")
@click.option("--escalated", is_flag=True, help="Only escalations (挂牌督办).")
@json_option
@pass_ctx
def supervision_command(ctx: CliContext, escalated: bool, as_json: bool) -> None:
    """Open 督办 items (reminders and escalations not yet resolved), nearest due first."""
    instance = ctx.instance()
    today = instance.today()
    with instance.db.session() as session:
        listed = []
        for item in supervising.open_items(session, escalated_only=escalated):
            case = session.get(Case, item.case_id)
            assert case is not None
            listed.append({**supervision_dict(item), "case_no": case.case_no,
                           "unit": case.unit.name if case.unit else None,
                           "overdue": item.due_on is not None and item.due_on < today})

    def human() -> None:
        for i in listed:
            due = ("逾期 " if i["overdue"] else "限 ") + i["due_on"] if i["due_on"] else ""
            click.echo(f"#{i['id']:<4} {i['case_no']}  {i['label']}  {due}  {i['unit'] or ''}  "
                       f"{i['text']}")
        click.echo(f"{len(listed)} item(s)")

    emit(as_json, {"today": today.isoformat(), "items": listed}, human)


@case_group.command("instruct")
@click.argument("case_ref")
@click.option("--leader", required=True, metavar="NAME", help="The leader who wrote it.")
@click.option("--text", required=True, help="The instruction (批示) as written.")
@click.option("--action", "actions", multiple=True, required=True,
              help="One thing it orders (repeatable); each is carried out and ticked off.")
@click.option("--on", "on", type=DATE, default=None, help="The day it was given (default: "
              "today).")
@json_option
@pass_ctx
def instruct(ctx: CliContext, case_ref: str, leader: str, text: str, actions: tuple[str, ...],
             on: dt.datetime | None, as_json: bool) -> None:
    """领导阅批: record a leader's instruction on a case and the actions it orders."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "instruct", leader=leader, text=text,
                   actions="\n".join(actions), on=_iso(on))
    document = _instruction(instance, outcome.case_id, outcome.details["instruction_id"])
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: 批示 #{document['id']}, {len(document['actions'])} action(s)"))


@case_group.command("done")
@click.argument("case_ref")
@click.argument("instruction_id", type=int)
@click.argument("action_number", type=int)
@click.option("--on", "on", type=DATE, default=None, help="The day it was done (default: today).")
@json_option
@pass_ctx
def done(ctx: CliContext, case_ref: str, instruction_id: int, action_number: int,
         on: dt.datetime | None, as_json: bool) -> None:
    """Tick off one action of an instruction (numbered from 1, as `case show` lists them)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "done", instruction=str(instruction_id),
                   number=str(action_number), on=_iso(on))
    document = _instruction(instance, outcome.case_id, instruction_id)
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: 批示 #{instruction_id} action {action_number} done"
        + ("; all done" if document["done_on"] else "")))


@case_group.command("hearing")
@click.argument("case_ref")
@click.option("--kind", type=click.Choice(MEETING_KINDS), default="hearing", show_default=True,
              help="hearing (听证; during 复核 its days are outside the period, §36 ¶2) or "
                   "joint_meeting (联席会议).")
@click.option("--from", "start", type=DATE, required=True, help="First day.")
@click.option("--to", "end", type=DATE, required=True, help="Last day (the same for one day).")
@click.option("--note", default="", help="Who took part, what was decided.")
@json_option
@pass_ctx
def hearing(ctx: CliContext, case_ref: str, kind: str, start: dt.datetime, end: dt.datetime,
            note: str, as_json: bool) -> None:
    """Record a hearing or joint meeting; a hearing during 复核 moves its deadline."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "hearing", kind=kind, start=_iso(start), end=_iso(end),
                   note=note)
    with instance.db.session() as session:
        case = cases.get_case(session, outcome.case_id)
        held = session.get(Hearing, outcome.details["hearing_id"])
        assert held is not None
        document = {**case_summary(case, instance.calendar, instance.today()),
                    "hearing": hearing_dict(held)}
    emit(as_json, document, lambda: click.echo(
        f"{document['case_no']}: {document['hearing']['label']} recorded"
        + (f"; due {document['deadline']['due']}" if document["deadline"] else "")))


@click.command("stats")
@click.option("--from", "start", type=DATE, default=None,
              help="First day of receipt counted (default: 1 January this year).")
@click.option("--to", "end", type=DATE, default=None,
              help="Last day of receipt counted (default: today).")
@click.option("--by", type=click.Choice(["month", "township", "unit"]), default=None,
              help="One set of rates per month of receipt, township or handling unit.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the table as CSV (UTF-8 with BOM, opens in Excel).")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also write the table as an Excel workbook (.xlsx).")
@json_option
@pass_ctx
def stats_command(ctx: CliContext, start: dt.datetime | None, end: dt.datetime | None,
                  by: str | None, csv_path: Path | None, xlsx_path: Path | None,
                  as_json: bool) -> None:
    """The office's rates (两个提高、三个降低 and more), each with its definition."""
    instance = ctx.instance()
    today = instance.today()
    first = start.date() if start else dt.date(today.year, 1, 1)
    last = end.date() if end else today
    if last < first:
        fail(f"--to {last} is before --from {first}")
    try:
        count, groups = case_clock.rates(instance, first, last, by)
    except RecordsError as e:
        raise click.ClickException(str(e)) from e
    document = {"from": first.isoformat(), "to": last.isoformat(), "by": by, "cases": count,
                "groups": {name: [r.as_dict() for r in rates] for name, rates in groups.items()}}
    if csv_path is not None:
        _write_csv(csv_path, groups)
    if xlsx_path is not None:
        _write_xlsx(xlsx_path, groups, f"{first} 至 {last}")

    def human() -> None:
        for name, rates in groups.items():
            click.echo(f"{name}（{first} 至 {last}）")
            for r in rates:
                shown = "—" if r.value is None else f"{r.value:.1%}"
                click.echo(f"  {r.name:<8} {shown:>7}  ({r.numerator}/{r.denominator})  "
                           f"{r.definition}")

    emit(as_json, document, human)


HEADER = ["分组", "指标", "比率", "分子", "分母", "口径", "分子为", "分母为", "数据来源"]


def _write_xlsx(path: Path, groups: dict[str, list[Any]], period: str) -> None:
    """The same table as the CSV, as a workbook: rates formatted as percentages."""
    try:
        from openpyxl import Workbook
    except ImportError:
        fail("--xlsx needs openpyxl: pip install openpyxl (or use --csv)")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "信访工作指标"
    sheet.append([f"统计期间：{period}（按收信日期）"])
    sheet.append(HEADER)
    for name, rates in groups.items():
        for r in rates:
            sheet.append([name, r.name, r.value, r.numerator, r.denominator, r.definition,
                          *_terms(r.key)])
            sheet.cell(row=sheet.max_row, column=3).number_format = "0.0%"
    for column, width in zip("ABCDEFGHI", (12, 16, 9, 8, 8, 70, 30, 30, 40), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    book.save(path)


def _write_csv(path: Path, groups: dict[str, list[Any]]) -> None:
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for name, rates in groups.items():
            for r in rates:
                writer.writerow([name, r.name, "" if r.value is None else r.value, r.numerator,
                                 r.denominator, r.definition, *_terms(r.key)])


def _terms(key: str) -> tuple[str, str, str]:
    """What a rate's numerator and denominator count, and from which records."""
    from records import stats

    return stats.RATE_TERMS.get(key, ("", "", ""))


@case_group.command("settle")
@click.argument("case_ref")
@click.option("--kind", type=click.Choice(settlements.KINDS), required=True,
              help="调解 (the organ mediated) or 和解 (the parties settled themselves).")
@click.option("--party", "parties", multiple=True, required=True,
              help="One party to the dispute (repeat: both sides, §33 争议双方当事人).")
@click.option("--terms", required=True, help="What was agreed (协议内容).")
@click.option("--on", "on", type=DATE, default=None, help="The day it was signed (default today).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="The signed agreement's scan (PDF, JPEG or PNG).")
@json_option
@pass_ctx
def settle(ctx: CliContext, case_ref: str, kind: str, parties: tuple[str, ...], terms: str,
           on: dt.datetime | None, file: Path, as_json: bool) -> None:
    """Record a 调解协议书 / 和解协议书 (§33); the matter ends (已办结) on its day."""
    instance = ctx.instance()
    with file.open("rb") as stream:
        outcome = case_actions.act_on(
            instance, case_ref, "settle", {"kind": kind, "parties": "\n".join(parties),
                                           "terms": terms, **({"on": _iso(on) or ""} if on
                                                              else {})},
            actor=ACTOR, role=CONSOLE, upload=(file.name, stream))
    document = {**_summary(instance, outcome.case_id), "message": outcome.message,
                **outcome.details}
    emit(as_json, document, lambda: click.echo(f"{document['case_no']}: {outcome.message}"))


@case_group.command("urgent")
@click.argument("case_ref")
@click.option("--reason", default="", help="Why it is 重大、紧急 (needed when first marked).")
@click.option("--told", "recipient", type=click.Choice(RECIPIENTS), default=None,
              help="Whom it was reported to (§25).")
@click.option("--person", default="", help="The leader or office that took the report.")
@click.option("--how", type=click.Choice(WAYS), default=None, help="How it was reported.")
@click.option("--at", "told_at", default=None, metavar="'YYYY-MM-DD HH:MM'",
              help="When it was reported (the office's local time).")
@json_option
@pass_ctx
def urgent(ctx: CliContext, case_ref: str, reason: str, recipient: str | None, person: str,
           how: str | None, told_at: str | None, as_json: bool) -> None:
    """Mark a matter 重大紧急 and/or record one report of it (to whom, when, how)."""
    instance = ctx.instance()
    outcome = _act(instance, case_ref, "urgent", reason=reason, recipient=recipient,
                   person=person, how=how, told_at=told_at)
    document = {**_summary(instance, outcome.case_id), "message": outcome.message,
                **outcome.details}
    emit(as_json, document, lambda: click.echo(f"{document['case_no']}: {outcome.message}"))
