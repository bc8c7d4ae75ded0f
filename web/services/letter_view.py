"""What a user is shown of a letter: one list row, one full record, each read audited.

The page, the API and the command line show a letter through these functions, so the masking
rule is written once: roles that do not register or sign (handlers) see ID numbers with their
birth date hidden everywhere the number can appear — the text, each page and each OCR line, the
fields proposed from the text and the petitioners' details.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from letters import template_title
from records import Letter, Reply, audit, intake, mask_id_numbers
from records.privacy import mask_personal
from records.workflow import STAGE_LABELS
from web.services.access import CONSOLE, SignedIn, may_see_letter
from web.services.errors import ServiceError
from web.services.instance import Instance
from web.services.page_images import PageImage, masked_page_image, page_image

# Roles that work with whole ID numbers (registering, signing); others see them masked.
FULL_ID_ROLES = ("clerk", "leader", CONSOLE)
STATUS_LABELS = {s.value: label for s, label in STAGE_LABELS.items()}


class LetterNotFound(ServiceError):
    """No such letter, or not one this user may see (the two are not told apart)."""


def sees_full_ids(reader: SignedIn) -> bool:
    """Whether this reader's role works with whole ID numbers."""
    return reader.role in FULL_ID_ROLES


def id_masker(reader: SignedIn) -> Callable[[str], str]:
    """The function every text shown to this reader passes through."""
    return (lambda text: text) if sees_full_ids(reader) else mask_id_numbers


def letter_row(letter: Letter) -> dict[str, Any]:
    """What a list shows of a letter (pages, API, CLI): no ID numbers, even in the summary."""
    case = letter.case
    return {
        "id": letter.id,
        "letter_id": letter.id,
        "reg_no": letter.reg_no,
        "received_on": letter.received_on,
        "channel": letter.channel,
        "petitioners": "、".join(intake.petitioner_names(letter)),
        "summary": mask_personal(letter.summary or ""),
        "pages": letter.page_count,
        "state": letter.ingest_state,
        "source_name": letter.source_name,
        "township": letter.township,
        "category": letter.category,
        "reviewed": letter.reviewed_at is not None,
        "version": letter.version,
        "case_id": letter.case_id,
        "case_no": case.case_no if case else "",
        "case_stage": STATUS_LABELS.get(case.status, case.status) if case else "",
        "case_unit": case.unit.name if case is not None and case.unit is not None else "",
    }


def reply_row(reply: Reply) -> dict[str, Any]:
    """One reply document and where it stands (versions: a newer one supersedes it)."""
    return {"id": reply.id, "title": template_title(reply.template),
            "doc_number": reply.doc_number, "created_at": reply.created_at,
            "created_by": reply.created_by, "signed_by": reply.signed_by,
            "signed_at": reply.signed_at, "delivered_on": reply.delivered_on,
            "delivery_method": reply.delivery_method,
            "superseded_by": reply.superseded_by_id}


def visible_letter(session: Session, reader: SignedIn, letter_id: int) -> Letter:
    """A letter this reader may see, else LetterNotFound (a page shows 404)."""
    letter = session.get(Letter, letter_id)
    if letter is None or not may_see_letter(reader, letter):
        raise LetterNotFound("没有这件来信，或您无权查看")
    return letter


def visible_reply(session: Session, reader: SignedIn, reply_id: int) -> tuple[Reply, Letter]:
    """A reply whose letter this reader may see, with that letter; else LetterNotFound."""
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise LetterNotFound("没有这份文书，或您无权查看")
    return reply, visible_letter(session, reader, reply.letter_id)


# A reply's files: what a download names, the column holding its hash, the name's ending, type.
REPLY_FILES = {
    "docx": ("docx_sha256", ".docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("pdf_sha256", ".pdf", "application/pdf"),
    "signed": ("signed_pdf_sha256", "-签章.pdf", "application/pdf"),
}


def reply_file(instance: Instance, reader: SignedIn, reply_id: int,
               kind: str) -> tuple[bytes, str, str]:
    """A reply's .docx, PDF or signed PDF (content, file name, type), from the blob store by
    the hash the reply recorded; the download audited. LetterNotFound when there is none."""
    if kind not in REPLY_FILES:
        raise LetterNotFound(f"没有“{kind[:20]}”这种文件")
    column, suffix, mimetype = REPLY_FILES[kind]
    with instance.db.session() as session:
        reply, letter = visible_reply(session, reader, reply_id)
        sha256 = getattr(reply, column)
        if sha256 is None or not instance.blobs.exists(sha256):
            raise LetterNotFound("这份文书还没有这个文件")
        name = f"{reply.doc_number or letter.reg_no}-{template_title(reply.template)}"
        letter_id = letter.id
    record_read(instance, reader, "reply", reply_id, action="download", kind=kind,
                sha256=sha256, letter_id=letter_id)
    data = instance.blobs.path(sha256).read_bytes()  # a reply is small; no handle is left open
    return data, _safe_name(name) + suffix, mimetype


def _safe_name(name: str) -> str:
    """A file name without characters that mean something to a file system or a header."""
    return "".join("_" if c in '/\\:*?"<>|\r\n\t' or ord(c) < 32 else c for c in name).strip()


def letter_record(instance: Instance, reader: SignedIn, letter_id: int, *,
                  via: str | None = None) -> dict[str, Any]:
    """The whole letter as this reader may see it, its read audited; LetterNotFound otherwise."""
    hide = id_masker(reader)
    with instance.db.session() as session:
        letter = visible_letter(session, reader, letter_id)
        record = letter_row(letter)
        extracted = _hide_strings(dict(letter.extracted or {}), hide)
        case = letter.case
        record.update(
            text=hide(letter.text or ""), error=letter.ingest_error, village=letter.village,
            reviewed_by=letter.reviewed_by, reviewed_at=letter.reviewed_at,
            media_type=letter.media_type, extracted=extracted,
            found_phones=extracted.get("phones", []), found_ids=extracted.get("id_numbers", []),
            proposed_name=extracted.get("petitioner") or "",
            pages_text=[{"page": p.number, "number": p.number, "text": hide(p.text or ""),
                         "engine": p.engine, "source": p.source, "score": p.mean_score,
                         "lines": _hide_strings(list(p.lines or []), hide)}
                        for p in letter.pages],
            people=[{"id": p.id, "name": p.name, "phone": p.phone or "",
                     "id_number": hide(p.id_number or ""), "address": p.address,
                     "place": " ".join(x for x in (p.township, p.village) if x)}
                    for p in letter.petitioners],
            case=None if case is None else {
                "id": case.id, "case_no": case.case_no, "title": mask_personal(case.title),
                "stage": STATUS_LABELS.get(case.status, case.status),
                "unit": case.unit.name if case.unit else ""},
            replies=[reply_row(r) for r in session.scalars(
                select(Reply).where(Reply.letter_id == letter.id).order_by(Reply.id.desc()))],
        )
        # last: from this INSERT to the commit the database is locked for writers
        audit.record(session, reader.username, "read", "letter", letter.id,
                     **({"via": via} if via else {}))
        return record


def _hide_strings(value: Any, hide: Callable[[str], str]) -> Any:
    """Every string inside a JSON value passed through ``hide`` (the proposed fields nest)."""
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, dict):
        return {k: _hide_strings(v, hide) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_strings(v, hide) for v in value]
    return value


def shown_page_image(instance: Instance, reader: SignedIn, letter_id: int,
                     number: int) -> PageImage:
    """A page of a letter's scan as this reader may see it — the original for the roles that
    work with whole numbers, else with the ID and mobile numbers covered — its read audited.
    LetterNotFound when the letter is not this reader's to see; PageImageError without a page."""
    with instance.db.session() as session:
        visible_letter(session, reader, letter_id)
    full = sees_full_ids(reader)
    image = (page_image if full else masked_page_image)(instance, letter_id, number)
    record_read(instance, reader, "letter", letter_id, via="page-image", page=number,
                masked=not full)
    return image


def record_refusal(instance: Instance, reader: SignedIn, endpoint: str, status: int,
                   ids: dict[str, Any]) -> None:
    """Audit a request refused to a signed-in user (403, or 404 for a record it may not see):
    probing other units' letters and cases must leave a trace."""
    entity, entity_id = "route", None
    for key, name in (("letter_id", "letter"), ("case_id", "case"), ("reply_id", "reply"),
                      ("user_id", "user"), ("task_id", "task")):
        if isinstance(ids.get(key), int):
            entity, entity_id = name, ids[key]
            break
    with instance.db.session() as session:
        audit.record(session, reader.username, "refused", entity, entity_id,
                     endpoint=endpoint, status=status)


def record_read(instance: Instance, reader: SignedIn, entity: str, entity_id: int | None, *,
                action: str = "read", **detail: Any) -> None:
    """Audit a read that shows a letter's content (a scan, a review screen, a reply, a file)."""
    with instance.db.session() as session:
        audit.record(session, reader.username, action, entity, entity_id, **detail)
