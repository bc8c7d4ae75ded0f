"""Producing replies: gather a letter's data, render the office's template, record the Reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import letters
from records import Letter, RecordsError, Reply, audit, intake, sha256_file
from web.instance import Instance

# The character of a document number that names its kind: 清信受〔2026〕17号.
DOC_CODES = {"acknowledgement": "受"}


@dataclass
class ReplyOutcome:
    """What `huiyin reply` reports: the Reply row and the files written."""

    reply_id: int
    letter_id: int
    doc_number: str
    files: dict[str, str | None] = field(default_factory=dict)


def reply_context(instance: Instance, letter: Letter, doc_number: str) -> dict[str, Any]:
    """The plain data a template fills in, taken from the records and the office's settings."""
    names = intake.petitioner_names(letter)
    if not names:
        raise RecordsError(
            f"letter {letter.reg_no} has no petitioner name yet: confirm who wrote it first"
        )
    settings = instance.settings
    unit = letter.case.unit.name if letter.case and letter.case.unit else settings["default_unit"]
    return {
        "office_name": settings["office_name"],
        "doc_number": doc_number,
        "petitioner_name": "、".join(names),
        "received_date": letter.received_on,
        "reg_no": letter.reg_no,
        "summary": letter.summary or "你反映的问题",
        "handling_unit": unit,
        "issue_date": instance.today(),
        "contact_phone": settings["office_phone"],
    }


def generate_reply(
    instance: Instance, letter_id: int, template: str, *, out_dir: Path | None, actor: str
) -> ReplyOutcome:
    """Render one reply for a letter; it is recorded, and its file kept as an original."""
    if template not in letters.template_names():
        known = ", ".join(letters.template_names())
        raise RecordsError(f"no template named {template!r} (known: {known})")
    out_dir = out_dir or instance.replies_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        year = instance.today().year
        number = intake.next_number(session, f"reply-{template}", year)
        doc_number = (
            f"{instance.settings['office_abbrev']}{DOC_CODES.get(template, '')}〔{year}〕{number}号"
        )
        context = reply_context(instance, letter, doc_number)
        reply = Reply(letter_id=letter.id, case_id=letter.case_id, template=template,
                      doc_number=doc_number, data=_jsonable(context), created_by=actor)
        session.add(reply)
        session.flush()
        docx = out_dir / f"{letter.reg_no}-{template}-{reply.id}.docx"
        letters.render_docx(template, context, docx)
        reply.docx_sha256 = instance.blobs.put(docx, sha256_file(docx))
        audit.record(session, actor, "generate-reply", "reply", reply.id, letter_id=letter.id,
                     template=template, doc_number=doc_number)
        return ReplyOutcome(reply_id=reply.id, letter_id=letter.id, doc_number=doc_number,
                            files={"docx": str(docx), "pdf": None, "signed_pdf": None})


def resolve_letter(instance: Instance, reference: str) -> int:
    """The id of the letter a user named by id or registration number."""
    with instance.db.session() as session:
        return intake.find_letter(session, reference).id


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in context.items()}
