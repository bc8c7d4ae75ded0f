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
from collections.abc import Callable, Mapping

from sqlalchemy import select

from records import CHANNELS, Petitioner, RecordsError, intake, receptions
from records.models import ADDRESSED_LEVELS, RECEIPT_BASES, utcnow
from web.services.dates import DateError, parse_day
from web.services.errors import ServiceError
from web.services.gazetteer import gazetteer
from web.services.indexing import index_or_queue
from web.services.instance import Instance
from web.services.review import LABELS, LIMITS, ReviewError, normalize_id_number, normalize_phone


class RegistrationError(ServiceError):
    """An item that cannot be registered as written; the message says what to fix.

    ``field`` names the form field at fault (``id_number``, ``received_on`` ...) so the page
    shows the message beside it, as the review form does."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


WRITTEN_CHANNELS = tuple(c for c in CHANNELS if c != "letter")  # a letter always has a scan
CHANNEL_LABELS = {"visit": "来访", "phone": "来电", "mailbox": "领导信箱", "online": "网上信访"}
# The receipt date's basis each channel has by default (§19 ¶1: 如实记录 what was said, when).
CHANNEL_BASES = {"visit": "来访登记", "phone": "来电登记", "mailbox": "网上登记",
                 "online": "网上登记"}
LEVEL_LABELS = {"group": "村民小组", "village": "村（社区）", "township": "乡镇（街道）",
                "county": "县级", "city": "市级", "province": "省级", "national": "国家级"}
FIELDS = ("channel", "name", "id_number", "phone", "address", "township", "village", "text",
          "received_on", "received_basis", "addressed_level", "people", "reception_id")


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
                     people: int = 1, actor: str, address: str = "", village: str = "",
                     received_basis: str | None = None, reception_id: int | None = None) -> int:
    """Store the record, register it as a letter with its text and petitioner, index it.

    A visit says where the petitioners went (``addressed_level``: the county office by default,
    a city or provincial one when they went above it) and how many came (``people``): the
    越级 and 集体 rates count visits by these (§20). A visit received on a 领导接待日 names it
    (``reception_id``). Each refusal names its field."""
    from ocr.fields import extract_fields

    if channel not in WRITTEN_CHANNELS:
        raise RegistrationError(f"渠道应为{'、'.join(CHANNEL_LABELS.values())}之一", "channel")
    name, township, village = name.strip(), township.strip(), village.strip()
    if not name:
        raise RegistrationError("请填写信访人姓名（不愿留名的填“匿名”）", "name")
    id_number, phone = _checked(id_number, normalize_id_number, "id_number"), _checked(
        phone, normalize_phone, "phone")
    for field, value in (("name", name), ("address", address), ("township", township),
                         ("village", village)):
        if len(value) > LIMITS[field]:
            raise RegistrationError(f"{LABELS[field]}最多 {LIMITS[field]} 个字", field)
    places = gazetteer(instance)
    if township and places.townships and township not in places.townships:
        raise RegistrationError(f"乡镇（街道）“{township}”不在地名表中，请从列表中选择",
                                "township")
    if not text.strip():
        raise RegistrationError("请写下信访人反映的内容（第十九条：口头提出的应当如实记录）",
                                "text")
    if addressed_level not in ADDRESSED_LEVELS:
        raise RegistrationError(f"去往的层级应为{'、'.join(LEVEL_LABELS.values())}之一",
                                "addressed_level")
    if not 1 <= people <= 10_000:
        raise RegistrationError("来访人数应为 1 至 10000", "people")
    received_basis = received_basis or CHANNEL_BASES[channel]
    if received_basis not in RECEIPT_BASES:
        raise RegistrationError(f"收件日期的依据须为{'、'.join(RECEIPT_BASES)}之一",
                                "received_basis")
    today = instance.today()
    received_on = received_on or today
    if received_on > today:
        raise RegistrationError(f"收件日期 {received_on} 在今天（{today}）之后", "received_on")
    if reception_id is not None:
        _check_reception(instance, reception_id, channel, received_on)
    if id_number:
        _check_same_person(instance, id_number, name)
    data = original_record(channel, utcnow(), received_on, name, phone, township, text)
    sha256 = instance.blobs.put_stream(io.BytesIO(data), expected=hashlib.sha256(data).hexdigest())
    with instance.db.session() as session:
        letter = intake.register_letter(
            session, sha256=sha256, source_name=f"{channel}-{sha256[:12]}.txt",
            media_type="text/plain; charset=utf-8", size_bytes=len(data),
            received_on=received_on, actor=actor, channel=channel)
        intake.record_text(session, letter, text, actor=actor)
        letter.township, letter.village, letter.received_basis = township, village, received_basis
        letter.addressed_level, letter.people = addressed_level, people
        intake.attach_petitioner(session, letter, name=name, id_number=id_number or None,
                                 phone=phone or None, address=address.strip(),
                                 township=township, village=village, actor=actor)
        if reception_id is not None:
            receptions.receive(session, receptions.get_reception(session, reception_id), letter,
                               actor=actor)
        intake.propose_fields(letter, extract_fields(
            letter.text, gazetteer=gazetteer(instance)).as_dict())
        letter_id = letter.id
    # Committed as "read": if indexing is interrupted, the ingest resume or reindex finishes it.
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        if index_or_queue(instance, session, [letter], actor=actor, why="registering"):
            intake.set_state(session, letter, "indexed")  # else an "index" task finishes it
    return letter_id




def _checked(value: str | None, normalize: Callable[[str], str], field: str) -> str | None:
    try:
        return normalize(value or "") or None
    except ReviewError as e:
        raise RegistrationError(str(e), field) from None


def _check_same_person(instance: Instance, id_number: str, name: str) -> None:
    """An ID number already on file is that person: a different name is a slip to correct
    (else the visit would be filed under the other name, as attach_petitioner keeps one
    person per ID number)."""
    with instance.db.session() as session:
        known = session.scalars(select(Petitioner.name).where(
            Petitioner.id_number == id_number)).first()
    if known is not None and known != name:
        raise RegistrationError(f"身份证号 {id_number} 已登记为“{known}”，与所填姓名“{name}”"
                                "不符：请核对姓名或身份证号", "id_number")


def _check_reception(instance: Instance, reception_id: int, channel: str,
                     received_on: dt.date) -> None:
    """A reception day receives visits of its own day (checked before anything is stored)."""
    with instance.db.session() as session:
        try:
            day = receptions.get_reception(session, reception_id)
        except RecordsError as e:
            raise RegistrationError(str(e), "reception_id") from None
        if channel != "visit":
            raise RegistrationError("只有来访可以列入领导接待日", "reception_id")
        if day.held_on != received_on:
            raise RegistrationError(f"接待日是 {day.held_on}，来访日期是 {received_on}："
                                    "请核对来访日期或接待日", "reception_id")


def register_form(instance: Instance, form: Mapping[str, str], *, actor: str) -> int:
    """The registration page's (and the API's) fields as text: checked, then registered."""
    values = {k: str(form.get(k) or "").strip() for k in FIELDS}
    try:
        received_on = parse_day(values["received_on"], what="收件日期",
                                not_after=instance.today()) \
            if values["received_on"] else None
    except DateError as e:
        raise RegistrationError(str(e), "received_on") from None
    people = values["people"] or "1"
    if not people.isdigit():
        raise RegistrationError("来访人数须为正整数", "people")
    reception = values["reception_id"]
    if reception and not reception.isdigit():
        raise RegistrationError("接待日编号须为正整数", "reception_id")
    return register_written(
        instance, channel=values["channel"], text=str(form.get("text") or ""),
        name=values["name"], id_number=values["id_number"] or None,
        phone=values["phone"] or None, address=values["address"], township=values["township"],
        village=values["village"], received_on=received_on,
        received_basis=values["received_basis"] or None,
        addressed_level=values["addressed_level"] or "county", people=int(people[:6]),
        reception_id=int(reception) if reception else None, actor=actor)
