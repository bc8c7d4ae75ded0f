"""`huiyin register`: a visit or call written down by the clerk, kept like a scanned letter."""

from __future__ import annotations

import datetime as dt

import click

from records import intake
from records.models import ADDRESSED_LEVELS, RECEIPT_BASES
from web.cli.common import ACTOR, DATE, CliContext, day_or_today, emit, json_option, pass_ctx
from web.services import receptions
from web.services.case_view import jsonable
from web.services.registration import CHANNEL_LABELS, WRITTEN_CHANNELS, register_written


@click.command("register")
@click.option("--channel", type=click.Choice(WRITTEN_CHANNELS), required=True,
              help="visit 来访, phone 来电, mailbox 领导信箱 or online 网上信访.")
@click.option("--text", required=True, help="What the petitioner said, as the clerk wrote it.")
@click.option("--name", required=True, help="The petitioner's name.")
@click.option("--phone", default=None, help="The petitioner's telephone number.")
@click.option("--id-number", default=None, help="The petitioner's ID number (身份证号).")
@click.option("--township", default="", help="The township the matter is in.")
@click.option("--on", "on", type=DATE, default=None,
              help="The day of the visit or call (default: today).")
@click.option("--level", "addressed_level", type=click.Choice(ADDRESSED_LEVELS),
              default="county", show_default=True,
              help="Where the petitioners went: a visit to a level above the competent unit's "
                   "and the one above it is 越级 (§20).")
@click.option("--people", type=click.IntRange(1, 10_000), default=1, show_default=True,
              help="How many came: five or more on one matter is 集体 (§20 ¶3).")
@click.option("--address", default="", help="The petitioner's address (住址).")
@click.option("--village", default="", help="The village (村、社区) the matter is in.")
@click.option("--basis", "received_basis", type=click.Choice(RECEIPT_BASES), default=None,
              help="What the day is read from (default: 来访登记, 来电登记 or 网上登记).")
@click.option("--reception", "reception_id", type=int, default=None,
              help="The 领导接待日 (its id, `huiyin reception list`) that received this visit.")
@json_option
@pass_ctx
def register(ctx: CliContext, channel: str, text: str, name: str, phone: str | None,
             id_number: str | None, township: str, on: dt.datetime | None,
             addressed_level: str, people: int, address: str, village: str,
             received_basis: str | None, reception_id: int | None, as_json: bool) -> None:
    """Register a visit or call that has no scan, written down by the clerk.

    The clerk's record (channel, time, petitioner, text) is kept as the item's original, a
    small UTF-8 text file in the blob store; the text is indexed and searched like a letter's.
    Then `huiyin case open` or `huiyin case link` as for any letter.
    """
    instance = ctx.instance()
    letter_id = register_written(instance, channel=channel, text=text, name=name, phone=phone,
                                 id_number=id_number, township=township.strip(),
                                 received_on=day_or_today(on, instance),
                                 addressed_level=addressed_level, people=people, actor=ACTOR,
                                 address=address, village=village.strip(),
                                 received_basis=received_basis, reception_id=reception_id)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        document = {"letter_id": letter.id, "reg_no": letter.reg_no, "channel": channel,
                    "chars": len(letter.text), "original_sha256": letter.source_sha256,
                    "received_on": letter.received_on.isoformat(),
                    "received_basis": letter.received_basis, "reception_id": reception_id}
    emit(as_json, document, lambda: click.echo(
        f"{CHANNEL_LABELS[channel]} registered as letter {document['reg_no']} "
        f"(id {letter_id}), {document['chars']} characters"))


# ---------------------------------------------------------------- 领导接待日

@click.group("reception")
def reception_group() -> None:
    """领导接待日 (§18 ¶2): record a leader's reception day, list them, show one."""


@reception_group.command("add")
@click.option("--on", "on", type=DATE, default=None, help="The day (default: today).")
@click.option("--leader", required=True, help="The leader who received (user name or id).")
@click.option("--place", required=True, help="Where (接待场所).")
@click.option("--note", default="", help="Anything else worth keeping.")
@click.option("--unit", "units", multiple=True,
              help="A unit taking part in a joint reception (联合接访, §18 ¶3); repeat.")
@json_option
@pass_ctx
def reception_add(ctx: CliContext, on: dt.datetime | None, leader: str, place: str, note: str,
                  units: tuple[str, ...], as_json: bool) -> None:
    """Record a reception day; register its visits with `huiyin register --reception ID`."""
    instance = ctx.instance()
    reception_id = receptions.add_reception(
        instance, {"held_on": day_or_today(on, instance).isoformat(), "leader": leader,
                   "place": place, "note": note}, actor=ACTOR, units=units)
    document = jsonable(receptions.reception_detail(instance, reception_id))
    emit(as_json, document, lambda: click.echo(
        f"reception day {reception_id}: {document['held_on']} {document['leader']} "
        f"at {document['place']}"))


@reception_group.command("edit")
@click.argument("reception_id", type=int)
@click.option("--place", default=None, help="The corrected place.")
@click.option("--note", default=None, help="The corrected note.")
@click.option("--unit", "units", multiple=True,
              help="A unit of the joint reception (repeat; the list replaces the old one).")
@click.option("--alone", is_flag=True, help="No longer a joint reception (no units).")
@json_option
@pass_ctx
def reception_edit(ctx: CliContext, reception_id: int, place: str | None, note: str | None,
                   units: tuple[str, ...], alone: bool, as_json: bool) -> None:
    """Correct a reception day's place or note, or set its joint units (who and when kept)."""
    instance = ctx.instance()
    form = {k: v for k, v in (("place", place), ("note", note)) if v is not None}
    receptions.edit_reception(instance, reception_id, form, actor=ACTOR,
                              units=[] if alone else (list(units) or None))
    day = jsonable(receptions.reception_detail(instance, reception_id))
    emit(as_json, day, lambda: click.echo(
        f"reception day {reception_id}: {day['place']}; units: "
        f"{'、'.join(u['name'] for u in day['units']) or '—'}"))


@reception_group.command("assign")
@click.argument("reception_id", type=int)
@click.argument("case_ref")
@click.argument("unit")
@json_option
@pass_ctx
def reception_assign(ctx: CliContext, reception_id: int, case_ref: str, unit: str,
                     as_json: bool) -> None:
    """Give a matter opened on a joint reception to one of its units (§18 ¶3)."""
    name = receptions.assign_matter(ctx.instance(), reception_id, case_ref, unit, actor=ACTOR)
    emit(as_json, {"reception_id": reception_id, "case": case_ref, "unit": name},
         lambda: click.echo(f"{case_ref} → {name}"))


@reception_group.command("list")
@json_option
@pass_ctx
def reception_list(ctx: CliContext, as_json: bool) -> None:
    """Every reception day, newest first, with its visits and matters."""
    days = jsonable(receptions.reception_list(ctx.instance()))

    def human() -> None:
        for d in days:
            click.echo(f"{d['id']:>4}  {d['held_on']}  {d['leader']}  {d['place']}  "
                       f"{d['visits']} visit(s), {d['matters']} matter(s)")
        click.echo(f"{len(days)} reception day(s)")

    emit(as_json, {"receptions": days}, human)


@reception_group.command("show")
@click.argument("reception_id", type=int)
@json_option
@pass_ctx
def reception_show(ctx: CliContext, reception_id: int, as_json: bool) -> None:
    """One reception day: whom the leader received and the matters opened."""
    day = jsonable(receptions.reception_detail(ctx.instance(), reception_id))

    def human() -> None:
        click.echo(f"{day['held_on']} {day['leader']} at {day['place']}"
                   + (f"  joint: {'、'.join(u['name'] for u in day['units'])}"
                      if day["units"] else ""))
        for x in day["letters"]:
            click.echo(f"  {x['reg_no']}  {x['petitioners']}  ({x['people']})  {x['summary']}")
        for c in day["cases"]:
            click.echo(f"  matter {c['case_no']}  {c['stage_label']}  {c['title']}")

    emit(as_json, day, human)


@reception_group.command("receive")
@click.argument("reception_id", type=int)
@click.argument("letter")
@json_option
@pass_ctx
def reception_receive(ctx: CliContext, reception_id: int, letter: str, as_json: bool) -> None:
    """List a visit registered that day (registration number or id) under the reception day."""
    instance = ctx.instance()
    receptions.receive(instance, reception_id, letter, actor=ACTOR)
    day = jsonable(receptions.reception_detail(instance, reception_id))
    emit(as_json, day, lambda: click.echo(f"{letter} received on reception day {reception_id}"))
