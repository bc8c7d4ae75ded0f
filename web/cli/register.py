"""`huiyin register`: a visit or call written down by the clerk, kept like a scanned letter."""

from __future__ import annotations

import datetime as dt

import click

from records import intake
from records.models import ADDRESSED_LEVELS
from web.cli.common import ACTOR, DATE, CliContext, day_or_today, emit, json_option, pass_ctx
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
@json_option
@pass_ctx
def register(ctx: CliContext, channel: str, text: str, name: str, phone: str | None,
             id_number: str | None, township: str, on: dt.datetime | None,
             addressed_level: str, people: int, as_json: bool) -> None:
    """Register a visit or call that has no scan, written down by the clerk.

    The clerk's record (channel, time, petitioner, text) is kept as the item's original, a
    small UTF-8 text file in the blob store; the text is indexed and searched like a letter's.
    Then `huiyin case open` or `huiyin case link` as for any letter.
    """
    instance = ctx.instance()
    letter_id = register_written(instance, channel=channel, text=text, name=name, phone=phone,
                                 id_number=id_number, township=township.strip(),
                                 received_on=day_or_today(on, instance),
                                 addressed_level=addressed_level, people=people, actor=ACTOR)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        document = {"letter_id": letter.id, "reg_no": letter.reg_no, "channel": channel,
                    "chars": len(letter.text), "original_sha256": letter.source_sha256}
    emit(as_json, document, lambda: click.echo(
        f"{CHANNEL_LABELS[channel]} registered as letter {document['reg_no']} "
        f"(id {letter_id}), {document['chars']} characters"))
