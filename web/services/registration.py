"""Registering what has no scan: a visit or a call the clerk writes down, kept like a letter.

Such an item has no scan, yet every Letter keeps an immutable original. Its original is the
clerk's record itself: a small UTF-8 text file (channel, time of registration, who, what was
said) stored in the blob store under its SHA-256. The letter's text is what was said; it has
no pages, and it is indexed and searched like any OCR'd letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from records import CHANNELS, intake
from records.models import ADDRESSED_LEVELS, utcnow
from web.services.errors import ServiceError
from web.services.gazetteer import gazetteer
from web.services.indexing import index_or_queue
from web.services.instance import Instance


class RegistrationError(ServiceError):
    """An item that cannot be registered as written; the message says what to fix."""


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
                     township: str = "", phone: str | None = None, id_number: str | None = None,
                     received_on: dt.date | None = None, addressed_level: str = "county",
                     people: int = 1, actor: str) -> int:
    """Store the record, register it as a letter with its text and petitioner, index it.

    A visit says where the petitioners went (``addressed_level``: the county office by default,
    a city or provincial one when they went above it) and how many came (``people``): the
    越级 and 集体 rates count visits by these (§20)."""
    from ocr.fields import extract_fields

    if channel not in WRITTEN_CHANNELS:
        raise RegistrationError(f"渠道应为{'、'.join(CHANNEL_LABELS.values())}之一")
    if not text.strip():
        raise RegistrationError("请写下信访人反映的内容")
    if not name.strip():
        raise RegistrationError("请填写信访人姓名")
    if addressed_level not in ADDRESSED_LEVELS:
        raise RegistrationError(f"去往的层级应为{'、'.join(ADDRESSED_LEVELS)}之一")
    if not 1 <= people <= 10_000:
        raise RegistrationError("来访人数应为 1 至 10000")
    today = instance.today()
    received_on = received_on or today
    if received_on > today:
        raise RegistrationError(f"收件日期 {received_on} 在今天（{today}）之后")
    data = original_record(channel, utcnow(), received_on, name.strip(), phone, township, text)
    sha256 = instance.blobs.put_stream(io.BytesIO(data), expected=hashlib.sha256(data).hexdigest())
    with instance.db.session() as session:
        letter = intake.register_letter(
            session, sha256=sha256, source_name=f"{channel}-{sha256[:12]}.txt",
            media_type="text/plain; charset=utf-8", size_bytes=len(data),
            received_on=received_on, actor=actor, channel=channel)
        intake.record_text(session, letter, text, actor=actor)
        letter.township = township
        letter.addressed_level, letter.people = addressed_level, people
        intake.attach_petitioner(session, letter, name=name.strip(), id_number=id_number or None,
                                 phone=phone or None, township=township, actor=actor)
        intake.propose_fields(letter, extract_fields(
            letter.text, gazetteer=gazetteer(instance)).as_dict())
        letter_id = letter.id
    # Committed as "read": if indexing is interrupted, the ingest resume or reindex finishes it.
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        if index_or_queue(instance, session, [letter], actor=actor, why="registering"):
            intake.set_state(session, letter, "indexed")  # else an "index" task finishes it
    return letter_id


