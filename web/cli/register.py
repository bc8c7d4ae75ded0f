"""`huiyin register`: a visit or call written down by the clerk, kept like a scanned letter.

Such an item has no scan, yet every Letter keeps an immutable original. Its original is the
clerk's record itself: a small UTF-8 text file (channel, time of registration, who, what was
said) stored in the blob store under its SHA-256. The letter's text is what was said; it has
no pages, and it is indexed and searched like any OCR'd letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import click

from records import CHANNELS, intake
from records.models import utcnow
from web.cli.common import (
    ACTOR,
    DATE,
    CliContext,
    day_or_today,
    emit,
    fail,
    json_option,
    pass_ctx,
)
from web.services.indexing import index_or_queue
from web.services.instance import Instance

WRITTEN_CHANNELS = tuple(c for c in CHANNELS if c != "letter")  # a letter always has a scan
CHANNEL_LABELS = {"visit": "来访", "phone": "来电", "mailbox": "领导信箱", "online": "网上信访"}


def original_record(channel: str, at: dt.datetime, received_on: dt.date, name: str,
                    phone: str | None, township: str, text: str) -> bytes:
    """The clerk's record as a small UTF-8 text file: the original of an item with no scan."""
    head = [f"渠道：{CHANNEL_LABELS[channel]}（{channel}）", f"收件日期：{received_on}",
            f"登记时间：{at.isoformat(timespec='microseconds')}Z", f"信访人：{name}"]
    head += [f"电话：{phone}"] if phone else []
    head += [f"乡镇：{township}"] if township else []
    return ("\n".join(head) + "\n\n" + text.strip() + "\n").encode("utf-8")


def register_written(instance: Instance, *, channel: str, text: str, name: str,
                     phone: str | None, id_number: str | None, township: str,
                     received_on: dt.date, actor: str) -> int:
    """Store the record, register it as a letter with its text and petitioner, index it."""
    from ocr.fields import extract_fields

    if not text.strip():
        fail("--text must say what the petitioner said")
    if not name.strip():
        fail("--name must name the petitioner")
    data = original_record(channel, utcnow(), received_on, name.strip(), phone, township, text)
    sha256 = instance.blobs.put_stream(io.BytesIO(data), expected=hashlib.sha256(data).hexdigest())
    with instance.db.session() as session:
        letter = intake.register_letter(
            session, sha256=sha256, source_name=f"{channel}-{sha256[:12]}.txt",
            media_type="text/plain; charset=utf-8", size_bytes=len(data),
            received_on=received_on, actor=actor, channel=channel)
        intake.record_text(session, letter, text, actor=actor)
        letter.township = township
        intake.attach_petitioner(session, letter, name=name.strip(), id_number=id_number or None,
                                 phone=phone or None, township=township, actor=actor)
        intake.propose_fields(letter, extract_fields(letter.text).as_dict())
        letter_id = letter.id
    # Committed as "read": if indexing is interrupted, the ingest resume or reindex finishes it.
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        if index_or_queue(instance, session, [letter], actor=actor, why="registering"):
            intake.set_state(session, letter, "indexed")  # else an "index" task finishes it
    return letter_id


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
@json_option
@pass_ctx
def register(ctx: CliContext, channel: str, text: str, name: str, phone: str | None,
             id_number: str | None, township: str, on: dt.datetime | None,
             as_json: bool) -> None:
    """Register a visit or call that has no scan, written down by the clerk.

    The clerk's record (channel, time, petitioner, text) is kept as the item's original, a
    small UTF-8 text file in the blob store; the text is indexed and searched like a letter's.
    Then `huiyin case open` or `huiyin case link` as for any letter.
    """
    instance = ctx.instance()
    received_on = day_or_today(on, instance)
    if received_on > instance.today():
        fail(f"--on {received_on} is in the future")
    letter_id = register_written(instance, channel=channel, text=text, name=name, phone=phone,
                                 id_number=id_number, township=township.strip(),
                                 received_on=received_on, actor=ACTOR)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        document = {"letter_id": letter.id, "reg_no": letter.reg_no, "channel": channel,
                    "chars": len(letter.text), "original_sha256": letter.source_sha256}
    emit(as_json, document, lambda: click.echo(
        f"{CHANNEL_LABELS[channel]} registered as letter {document['reg_no']} "
        f"(id {letter_id}), {document['chars']} characters"))
