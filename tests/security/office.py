"""An office whose records carry hostile text, built once per session for the security tests.

Every place a citizen's or a clerk's words reach a page holds a payload: the OCR lines of a
real scan (read by the real OCR model, then "misread" as script), a written-down letter's text
and summary, a petitioner's name, an uploaded file's name, a case's timeline, a reply's field
values. The ID number and phone of the petitioner are in the summary and the case title, so
that lists which forget to mask them show them.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from records import Page, Unit, audit, cases, intake
from tests.web.signin import HANDLER_UNIT, add_users
from web.services.indexing import index_letters
from web.services.instance import Instance
from web.services.registration import register_written

SCRIPT = '<script>alert("huiyin")</script>'
TAG = "<img src=x onerror=alert(2)>"
QUOTE = '" autofocus onfocus="alert(3)'
PAYLOADS = (SCRIPT, TAG, QUOTE)
ID_NUMBER = "41172219630412352X"
MASKED_ID = "411722********352X"
PHONE = "13839452176"
OTHER_UNIT = "县民政局"
TODAY = dt.date.today()
CASE_TITLE = f"{ID_NUMBER}<b>韩</b>"  # short: the case list cuts titles at 30 characters
FILE_NAME = "<img src=x onerror=alert(4)>.png"
REPLY_VALUES = {"petitioner_name": f"韩秋菊{SCRIPT}",
                "summary": f"征地补偿{TAG}{{{{ 7*7 }}}}{{% if 1 %}}x{{% endif %}}&amp;\u202e"}


@dataclass
class Office:
    home: Path
    letters: dict[str, int] = field(default_factory=dict)  # label -> letter id
    cases: dict[str, int] = field(default_factory=dict)
    replies: dict[str, int] = field(default_factory=dict)


def hostile_text() -> str:
    return (f"我叫韩秋菊，身份证号{ID_NUMBER}，电话{PHONE}。{SCRIPT}征地补偿款{TAG}"
            f"至今没有发放{QUOTE}。")


def build(home: Path, scan: Path) -> Office:
    """The instance with its users, four letters, two cases and a reply (see the docstring)."""
    office = Office(home)
    with Instance(home) as instance:
        instance.create()
        add_users(home)
        office.letters["written"] = register_written(
            instance, channel="visit", text=hostile_text(), name=f"韩秋菊{TAG}", phone=PHONE,
            id_number=ID_NUMBER, township="石桥镇", received_on=TODAY, actor="clerk1")
        office.letters["other"] = register_written(
            instance, channel="phone", text="城关镇南关社区拖欠农民工工资，请求督促支付。",
            name="卢振东", phone="15903967742", id_number=None, township="城关镇",
            received_on=TODAY, actor="clerk1")
        from web.services.pipeline import ingest_file

        result = ingest_file(instance, scan, actor="clerk1")
        assert result.letter_id is not None, result.error
        office.letters["scanned"] = result.letter_id
        from web.services.intake import receive

        received = receive(instance, FILE_NAME, io.BytesIO(scan.read_bytes() + b"\0"),
                           actor="clerk1")
        assert received.letter_id is not None, received.error
        office.letters["uploaded"] = received.letter_id
        from web.services.pipeline import complete

        read = complete(instance, received.letter_id)  # as the worker would: OCR, index
        assert read.error is None, read.error
        with instance.db.session() as session:
            mine = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            other = Unit(name=OTHER_UNIT)
            session.add(other)
            written = intake.get_letter(session, office.letters["written"])
            written.summary = f"韩秋菊{ID_NUMBER}电话{PHONE}{SCRIPT}{TAG}"
            written.category = "征地拆迁"
            case = cases.open_case(session, written, actor="clerk1")
            case.unit_id = mine.id
            case.title = CASE_TITLE
            scanned = intake.get_letter(session, office.letters["scanned"])
            page = session.scalars(select(Page).where(Page.letter_id == scanned.id)).one()
            lines = [dict(line) for line in page.lines]
            lines[0]["text"] = f"{SCRIPT}{TAG}{QUOTE}"
            page.lines = lines
            page.text = "\n".join(line["text"] for line in lines)
            scanned.text = page.text
            scanned.case = case
            second = cases.open_case(session, intake.get_letter(session, office.letters["other"]),
                                     actor="clerk1")
            session.flush()
            second.unit_id = other.id
            audit.record(session, "clerk1", "flag", "case", case.id, flags=[],
                         reason=f"{SCRIPT}{TAG}")
            office.cases = {"mine": case.id, "other": second.id}
        with instance.db.session() as session:
            index_letters(instance, [intake.get_letter(session, i) for i in
                                     (office.letters["written"], office.letters["scanned"],
                                      office.letters["other"])])
        office.replies["mine"] = _reply(instance, office.letters["written"])
    return office


def _reply(instance: Instance, letter_id: int) -> int:
    """A reply (.docx only: no LibreOffice needed) whose field values are hostile."""
    from web.services.replies import generate_reply
    from web.services.reply_preview import form_fields, read_form

    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        defaults = {f.name: f.value or "2026-01-05" for f in
                    form_fields(instance, letter, "acknowledgement")}
    values, problems = read_form("acknowledgement", {**defaults, **REPLY_VALUES})
    assert not problems, problems
    outcome = generate_reply(instance, letter_id, "acknowledgement", out_dir=None,
                             actor="leader1", data=values, pdf=False)
    return outcome.reply_id
