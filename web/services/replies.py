"""Producing replies: gather a letter's data, render, convert, sign, record; verify them later.

Every generated document is a new Reply row (template version, the data used, who generated and
who signed, the SHA-256 of each file, kept in the blob store). A new version of the same
document for the same letter supersedes the old row; nothing is overwritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import letters
from records import (
    Case,
    Letter,
    RecordsError,
    Reply,
    audit,
    cases,
    intake,
    kinds,
    query_codes,
    sha256_file,
    termination,
    workflow,
)
from records.calendar import OutsideCalendar
from records.models import utcnow
from web.services import labels
from web.services.errors import ReplyError
from web.services.instance import Instance
from web.services.settings import setup_problems
from web.services.sign_confirmation import Confirmation, check

# The character of a document number that names its kind: 清信受〔2026〕17号.
DOC_CODES = {"acknowledgement": "受", "non_acceptance": "不受", "transfer_notice": "转",
             "assignment": "交", "handling_opinion": "复", "extension_notice": "延",
             "review_opinion": "查", "re_review_opinion": "核", "service_receipt": "送"}
DECISIONS = ("支持", "解释说明", "不予支持")
DELIVERY_METHODS = ("邮寄", "当面", "网上")
SELF_SIGNED_NOTICE = (
    "A self-signed certificate was created for signing replies. It proves that a signed PDF is "
    "unchanged since this office signed it (integrity) and nothing more; it carries no legal "
    "weight. Import a certificate issued by a licensed CA: put it at {path} (PKCS#12) and its "
    "passphrase in {path}.pass.")


@dataclass
class ReplyOutcome:
    """What `huiyin reply` reports: the Reply row and the files written."""

    reply_id: int
    letter_id: int
    doc_number: str
    files: dict[str, str | None] = field(default_factory=dict)
    verify_url: str | None = None
    superseded: int | None = None
    step: str = ""  # the workflow step its signing made, "outside" (流程外文书) or ""
    step_note: str = ""  # why a signed document is outside the flow


def _signing_dir(instance: Instance) -> Path:
    return instance.home / "signing"


def ensure_office_certificate(instance: Instance) -> Path:
    """Make the office's self-signed PKCS#12 unless one is there; return its path (idempotent)."""
    folder = _signing_dir(instance)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    p12, secret = folder / "office.p12", folder / "office.p12.pass"
    if not p12.is_file():
        if not secret.is_file():
            secret.write_text(secrets.token_urlsafe(24))
            secret.chmod(0o600)
        letters.make_certificate(p12, secret.read_text().strip().encode(),
                                 instance.settings["office_name"])
        (folder / "README.txt").write_text(SELF_SIGNED_NOTICE.format(path=p12) + "\n")
    return p12


def _office_key(instance: Instance) -> tuple[Path, bytes]:
    p12 = ensure_office_certificate(instance)
    secret = p12.with_name(p12.name + ".pass")
    return p12, secret.read_text().strip().encode() if secret.is_file() else b""


def _verify_key(instance: Instance) -> bytes:
    path = _signing_dir(instance) / "verify.key"
    if not path.is_file():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def verify_code(instance: Instance, reply_id: int) -> str:
    """The public code of a reply in its QR link: its id and a MAC, so ids cannot be guessed."""
    mac = hmac.new(_verify_key(instance), str(reply_id).encode(), hashlib.sha256).hexdigest()
    return f"{reply_id}-{mac[:16]}"


def reply_id_of_code(instance: Instance, code: str) -> int | None:
    """The reply a verification code names, or None when the code is not one of ours."""
    head, _, _ = code.partition("-")
    if not head.isdigit() or len(code) > 40:
        return None
    return int(head) if hmac.compare_digest(verify_code(instance, int(head)), code) else None


def verify_url(instance: Instance, reply_id: int) -> str:
    """The address in a reply's QR code; refused while citizens' phones could not open it."""
    refused = [p for p in setup_problems(instance.settings) if "public_url" in p]
    if refused:
        raise RecordsError(refused[0])
    base = str(instance.settings["public_url"]).rstrip("/")
    return f"{base}/verify/{verify_code(instance, reply_id)}"


def document_number(instance: Instance, template: str, year: int, number: int | str) -> str:
    """The document number a reply carries: 清信受〔2026〕17号."""
    return f"{instance.settings['office_abbrev']}{DOC_CODES.get(template, '')}〔{year}〕{number}号"


# What identifies the issuer on a reply: given by the office's settings, its numbering and its
# calendar when the reply is made, never by the person drafting it (a drafter could otherwise
# print another office's name, which the leader signs and /verify then calls valid).
ISSUER_FIELDS = frozenset({"office_name", "doc_number", "issue_date"})
# The petitioner's query code and page (§21 ¶2) come from the case, never from typed data: a
# typed code would send the petitioner to another matter, or to none. How the matter came (the
# 交办单's "来访反映") is the letter's channel, never typed either, and so is whether the
# 受理告知书 promises §34's 60 days or the office's own period (the matter's kind).
RECORD_FIELDS = frozenset({"query_code", "query_url", "channel_word", "office_period"})


def reply_context(instance: Instance, letter: Letter, doc_number: str) -> dict[str, Any]:
    """The plain data a template fills in, taken from the records and the office's settings."""
    names = intake.petitioner_names(letter)
    if not names:
        raise ReplyError(f"来信 {letter.reg_no} 还没有确认信访人姓名：请先在校对中确认信访人，"
                         "再拟写答复")
    settings = instance.settings
    unit = letter.case.unit.name if letter.case and letter.case.unit else settings["default_unit"]
    return {
        "office_name": settings["office_name"],
        "doc_number": doc_number,
        "petitioner_name": "、".join(names),
        "received_date": letter.received_on,
        "channel_word": labels.CHANNEL_WORDS.get(letter.channel, "来信"),
        "reg_no": letter.reg_no,
        "summary": letter.summary or "你反映的问题",
        "request": letter.summary or "你反映的问题",
        "handling_unit": unit,
        "issue_date": instance.today(),
        "contact_phone": settings["office_phone"],
        "office_period": letter.case is not None and kinds.period(
            letter.case.kind, letter.case.sub_kind) == kinds.OFFICE,
        **query_fields(instance, letter),
    }


def refusal_terms(instance: Instance, letter: Letter, template: str) -> dict[str, Any]:
    """What a 不予受理告知书 says by default from the matter's kind (the channel of §31 items
    1-4) or from why the letter is not accepted again (§36 ¶3, §19 ¶3); typed values win."""
    case = letter.case
    if template != "non_acceptance" or case is None:
        return {}
    with instance.db.session() as session:
        again = termination.propose(session, case, letter, cases.clock_of(case),
                                    instance.calendar)
    if again is not None:
        return {"reason": again.reason,
                "legal_basis": f"《信访工作条例》{again.article}：“{again.words}”"}
    channel = kinds.channel(case.kind, case.sub_kind)
    if channel:
        item = kinds.ITEMS[(case.sub_kind or 1) - 1]
        return {"channel": channel,
                "legal_basis": f"《信访工作条例》第二十八条第二款、第三十一条第{item}项"}
    return {}


def query_fields(instance: Instance, letter: Letter) -> dict[str, str]:
    """The query code and page a 受理告知书 prints (§21 ¶2); empty before the case is opened."""
    code = letter.case.query_code if letter.case else None
    if not code:
        return {"query_code": "", "query_url": ""}
    return {"query_code": query_codes.shown(code), "query_url": query_url(instance)}


def query_url(instance: Instance) -> str:
    """The public query page's address (settings public_url), as the 受理告知书 prints it."""
    return str(instance.settings["public_url"] or "").rstrip("/") + "/query"


def clock_dates(instance: Instance, letter: Letter, template: str) -> dict[str, Any]:
    """The dates a document states (交办单's 办理期限, 延期告知书's length and new date), from
    the case's own clock (records.cases.document_dates), never counted here."""
    try:
        if letter.case is None:  # a 交办单 printed before the case is opened
            return ({"deadline_date": workflow.assignment_due(instance.today(), instance.calendar)}
                    if template == "assignment" else {})
        return cases.document_dates(letter.case, template, instance.calendar, instance.today())
    except OutsideCalendar as e:
        raise RecordsError(str(e)) from e


def _take_step(instance: Instance, session: Session, reply: Reply, letter: Letter,
               on: dt.date, actor: str) -> cases.Signed:
    """Signing is the step the document makes (受理告知书 is 受理 ...), or it is named
    流程外文书 with the reason (records.cases.document_signed)."""
    if letter.case is None:
        reply.step = cases.OUTSIDE
        return cases.Signed(cases.OUTSIDE, "来信尚未立为信访事项")
    decision = (reply.data or {}).get("decision")
    try:
        return cases.document_signed(session, letter.case, reply.template, on=on, actor=actor,
                                     calendar=instance.calendar, decision=decision,
                                     reply=reply)
    except OutsideCalendar as e:
        raise RecordsError(str(e)) from e


def _check_data(template: str, context: dict[str, Any]) -> None:
    if template == "handling_opinion" and context.get("decision") not in DECISIONS:
        raise ReplyError(f"decision must be one of {', '.join(DECISIONS)}; "
                           f"got {context.get('decision')!r}")
    method = context.get("delivery_method")
    if template == "service_receipt" and method not in DELIVERY_METHODS:
        raise ReplyError(f"delivery_method must be one of {', '.join(DELIVERY_METHODS)}")


def generate_reply(
    instance: Instance, letter_id: int, template: str, *, out_dir: Path | None, actor: str,
    data: dict[str, Any] | None = None, pdf: bool = True, sign: bool = False,
    confirmation: Confirmation | None = None, converter: letters.Converter | None = None,
) -> ReplyOutcome:
    """Render one reply for a letter (.docx, PDF/A, signed PDF); it is recorded, files kept.

    Signing at once needs the signer's confirmation (sign_confirmation.check), as a later
    signature does.
    """
    if sign:
        if confirmation is None:
            raise ReplyError("签章须由领导确认（核对文书并在规定时间内输入过密码）")
        check(instance, actor, confirmation)
    if template not in letters.template_names(instance.templates_dir):
        known = ", ".join(letters.template_names(instance.templates_dir))
        raise ReplyError(f"no template named {template!r} (known: {known})")
    out_dir = out_dir or instance.replies_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if not str(instance.settings["office_phone"] or "").strip():
        raise RecordsError("尚未设置答复上的联系电话（office_phone）：请系统管理员运行 huiyin init "
                           "或在 config.toml 中设置后再生成答复")
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        year = instance.today().year
        number = intake.next_number(session, f"reply-{template}", year)
        doc_number = document_number(instance, template, year, number)
        # the issuer's fields are never typed; the clock's dates win over typed ones: a
        # document states the case's real dates
        given = {k: v for k, v in (data or {}).items()
                 if k not in ISSUER_FIELDS | RECORD_FIELDS}
        context = {**reply_context(instance, letter, doc_number),
                   **refusal_terms(instance, letter, template), **_dates(given),
                   **clock_dates(instance, letter, template)}
        context["doc_number"] = doc_number
        _check_data(template, context)
        reply = Reply(letter_id=letter.id, case_id=letter.case_id, template=template,
                      template_version=letters.template_version(template, instance.templates_dir),
                      doc_number=doc_number, data=_jsonable(context), created_by=actor)
        session.add(reply)
        session.flush()
        stem = out_dir / f"{letter.reg_no}-{template}-{reply.id}"
        files: dict[str, str | None] = {"docx": None, "pdf": None, "signed_pdf": None}
        docx = letters.render_docx(template, context, stem.with_suffix(".docx"),
                                   extra_dir=instance.templates_dir)
        reply.docx_sha256 = instance.blobs.put(docx, sha256_file(docx))
        files["docx"] = str(docx)
        link = verify_url(instance, reply.id)
        if pdf or sign:
            made = letters.convert_to_pdf(docx, stem.with_suffix(".pdf"), converter)
            reply.pdf_sha256 = instance.blobs.put(made, sha256_file(made))
            files["pdf"] = str(made)
            if sign:
                signed = _sign_file(instance, reply, made, stem, context["office_name"],
                                    context["issue_date"], actor)
                files["signed_pdf"] = str(signed)
                step = _take_step(instance, session, reply, letter, context["issue_date"],
                                  actor)
        older = session.scalars(select(Reply).where(
            Reply.letter_id == letter.id, Reply.template == template, Reply.id != reply.id,
            Reply.superseded_by_id.is_(None))).all()
        for old in older:
            old.superseded_by_id = reply.id
        audit.record(session, actor, "generate-reply", "reply", reply.id, letter_id=letter.id,
                     template=template, doc_number=doc_number, signed=sign,
                     supersedes=[o.id for o in older],
                     **({"via": confirmation.via} if sign and confirmation else {}))
        return ReplyOutcome(reply_id=reply.id, letter_id=letter.id, doc_number=doc_number,
                            files=files, verify_url=link,
                            superseded=older[-1].id if older else None,
                            step=step.step if sign else "", step_note=step.reason if sign else "")


def _sign_file(instance: Instance, reply: Reply, pdf: Path, stem: Path, office_name: str,
               issue_date: dt.date, actor: str) -> Path:
    """Sign a reply's PDF (seal, QR code) next to stem, keep it, and note who signed it."""
    p12, passphrase = _office_key(instance)
    seal = _signing_dir(instance) / "seal.png"  # the office's scanned seal (系统管理), if any
    signed = letters.sign_pdf(
        pdf, stem.with_name(stem.name + "-signed.pdf"), p12=p12, passphrase=passphrase,
        office_name=office_name, date_text=letters.cn_date(issue_date),
        link=verify_url(instance, reply.id),
        reason=f"{reply.doc_number} {letters.template_title(reply.template)}",
        seal=seal if seal.is_file() else None)
    reply.signed_pdf_sha256 = instance.blobs.put(signed, sha256_file(signed))
    reply.signed_by, reply.signed_at = actor, utcnow()
    return signed


def sign_reply(instance: Instance, reply_id: int, *, actor: str, confirmation: Confirmation,
               converter: letters.Converter | None = None) -> ReplyOutcome:
    """Sign a reply generated earlier (as `huiyin reply --sign` would have); recorded, audited.

    Only the current version of a reply can be signed, and only once, and only with the
    signer's confirmation (sign_confirmation.check: the same rule for the page, the API and
    the command line). A reply made without a PDF (`--no-pdf`) is converted first.
    """
    _signable(instance, reply_id)
    typed = check(instance, actor, confirmation, reply_id=reply_id)
    with instance.db.session() as session:
        reply = _signable_in(session, reply_id)
        data = reply.data or {}
        instance.replies_dir.mkdir(parents=True, exist_ok=True)
        letter = intake.get_letter(session, reply.letter_id)
        stem = instance.replies_dir / f"{letter.reg_no}-{reply.template}-{reply.id}"
        files: dict[str, str | None] = {"docx": None, "pdf": None, "signed_pdf": None}
        if reply.docx_sha256:
            files["docx"] = str(instance.blobs.path(reply.docx_sha256))
        if reply.pdf_sha256 is None:
            if reply.docx_sha256 is None:
                raise ReplyError(f"reply {reply_id} has no document to sign")
            docx = stem.with_suffix(".docx")  # LibreOffice goes by the name's suffix
            shutil.copyfile(instance.blobs.path(reply.docx_sha256), docx)
            made = letters.convert_to_pdf(docx, stem.with_suffix(".pdf"), converter)
            reply.pdf_sha256 = instance.blobs.put(made, sha256_file(made))
        pdf = instance.blobs.path(reply.pdf_sha256)
        files["pdf"] = str(pdf)
        try:
            issue_date = dt.date.fromisoformat(str(data["issue_date"]))
        except (KeyError, ValueError) as e:
            raise ReplyError(f"reply {reply_id} has no issue date recorded: "
                               "generate it again") from e
        office_name = str(data.get("office_name") or instance.settings["office_name"])
        signed = _sign_file(instance, reply, pdf, stem, office_name, issue_date, actor)
        files["signed_pdf"] = str(signed)
        step = _take_step(instance, session, reply, letter, issue_date, actor)
        audit.record(session, actor, "sign-reply", "reply", reply.id, letter_id=reply.letter_id,
                     doc_number=reply.doc_number, signed_pdf_sha256=reply.signed_pdf_sha256,
                     via=confirmation.via, password_typed=typed)
        return ReplyOutcome(reply_id=reply.id, letter_id=reply.letter_id,
                            doc_number=reply.doc_number, files=files,
                            verify_url=verify_url(instance, reply.id), step=step.step,
                            step_note=step.reason)


def _signable(instance: Instance, reply_id: int) -> None:
    """Refuse a signature on a missing, replaced or signed reply before asking for anything."""
    with instance.db.session() as session:
        _signable_in(session, reply_id)


def _signable_in(session: Session, reply_id: int) -> Reply:
    """The reply to sign: refused when missing, replaced or already signed."""
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise ReplyError(f"no reply {reply_id}")
    if reply.superseded_by_id is not None:
        raise ReplyError(f"reply {reply_id} was replaced by reply {reply.superseded_by_id}:"
                         " sign the current version")
    if reply.signed_pdf_sha256 is not None:
        raise ReplyError(f"reply {reply_id} is already signed by {reply.signed_by}")
    return reply


def generate_many(
    instance: Instance, letter_ids: Iterable[int], template: str, *, actor: str,
    out_dir: Path | None = None, data: dict[str, Any] | None = None, sign: bool = False,
    confirmation: Confirmation | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Replies for many letters through one warm LibreOffice; a failure is reported, not raised.

    A signed batch is confirmed before the first letter (a wrong password stops it) and at each.
    """
    ids = list(letter_ids)
    if sign:
        if confirmation is None:
            raise ReplyError("签章须由领导确认（核对文书并在规定时间内输入过密码）")
        check(instance, actor, confirmation)
    results: list[dict[str, Any]] = []
    with letters.WarmConverter(timeout=60) as converter:
        for done, letter_id in enumerate(ids, start=1):
            try:
                outcome = generate_reply(instance, letter_id, template, out_dir=out_dir,
                                         actor=actor, data=data, sign=sign,
                                         confirmation=confirmation, converter=converter)
                results.append({"letter_id": letter_id, "reply_id": outcome.reply_id,
                                "doc_number": outcome.doc_number, "files": outcome.files,
                                "error": None})
            except (ReplyError, RecordsError, letters.LettersError) as e:
                results.append({"letter_id": letter_id, "reply_id": None, "error": str(e)})
            if progress:
                progress(done, len(ids))
    return results


def record_delivery(instance: Instance, reply_id: int, method: str, on: dt.date,
                    actor: str) -> None:
    """Note how (邮寄, 当面, 网上) and when a reply reached the petitioner."""
    if method not in DELIVERY_METHODS:
        raise ReplyError(f"送达方式只能是{'、'.join(DELIVERY_METHODS)}")
    if on > instance.today():
        raise ReplyError(f"送达日期 {on} 不能晚于今天（{instance.today()}）")
    with instance.db.session() as session:
        reply = session.get(Reply, reply_id)
        if reply is None:
            raise ReplyError(f"没有编号为 {reply_id} 的文书")
        reply.delivery_method, reply.delivered_on = method, on
        audit.record(session, actor, "deliver-reply", "reply", reply_id, method=method,
                     on=on.isoformat())
        case = session.get(Case, reply.case_id) if reply.case_id else None
        if case is not None and reply.step not in ("", cases.OUTSIDE):
            # an answer that made its step: its delivery starts the §35/§36 window
            cases.document_delivered(session, case, reply.template, on, actor=actor)


def letters_without_reply(instance: Instance) -> list[dict[str, Any]]:
    """Letters with no reply at all yet, nearest deadline first.

    A letter in a case shows its case's running clock (records.workflow); one not yet in a
    case shows the 15 days from receipt within which the petitioner must be told in writing.
    """
    today = instance.today()
    with instance.db.session() as session:
        answered = select(Reply.letter_id)
        rows = session.scalars(select(Letter).where(Letter.id.not_in(answered))
                               .order_by(Letter.received_on, Letter.id)).all()
        found = []
        for letter in rows:
            clock = cases.deadline(letter.case, instance.calendar) if letter.case else None
            if clock is not None:
                deadline, what = clock.due, clock.what
            else:
                deadline = workflow.next_working_day(
                    letter.received_on + dt.timedelta(days=workflow.ROUTE_DAYS), instance.calendar)
                what = "书面告知信访人（受理、不予受理或转送）"
            found.append({"letter_id": letter.id, "reg_no": letter.reg_no,
                          "received_on": letter.received_on.isoformat(),
                          "petitioners": intake.petitioner_names(letter),
                          "summary": letter.summary, "case_no": letter.case.case_no
                          if letter.case else None, "deadline": deadline.isoformat(),
                          "deadline_for": what, "days_left": (deadline - today).days,
                          "overdue": deadline < today})
    return sorted(found, key=lambda row: row["deadline"])


def _retired(instance: Instance) -> list[tuple[Path, bytes]]:
    """Certificates the office signed with before, newest first: earlier replies stay valid."""
    folder = _signing_dir(instance) / "retired"
    keys = []
    for p12 in sorted(folder.glob("*.p12"), reverse=True):
        secret = p12.with_name(p12.name + ".pass")
        keys.append((p12, secret.read_text().strip().encode() if secret.is_file() else b""))
    return keys


def import_certificate(instance: Instance, p12: Path, passphrase: bytes, *,
                       actor: str) -> dict[str, str]:
    """Make a CA-issued PKCS#12 the office's signing certificate; the old one is kept."""
    subject = letters.certificate_of(p12, passphrase).subject.human_friendly  # refuses a bad one
    current, secret = _office_key(instance)
    retired = _signing_dir(instance) / "retired"
    retired.mkdir(mode=0o700, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    current.replace(retired / f"{stamp}-office.p12")
    (retired / f"{stamp}-office.p12.pass").write_bytes(secret)
    target = _signing_dir(instance) / "office.p12"
    target.write_bytes(p12.read_bytes())
    target.chmod(0o600)
    pass_file = target.with_name(target.name + ".pass")
    pass_file.write_bytes(passphrase)
    pass_file.chmod(0o600)
    with instance.db.session() as session:
        audit.record(session, actor, "import-certificate", "certificate", None, subject=subject,
                     retired=f"{stamp}-office.p12")
    return {"subject": subject, "certificate": str(target)}


def verify_document(instance: Instance, data: bytes) -> dict[str, Any]:
    """Check a signed PDF: intact, signed by us, which reply and case, replaced or not."""
    for p12, passphrase in [_office_key(instance), *_retired(instance)]:
        result = letters.verify_pdf(data, letters.certificate_of(p12, passphrase))
        if result.valid or not result.intact:
            break  # valid under this certificate, or damaged whichever certificate is tried
    digest = hashlib.sha256(data).hexdigest()
    document: dict[str, Any] = {
        "valid": False, "intact": result.intact, "signed": result.signed,
        "signer": result.signer, "signed_at": result.signed_at, "reply_id": None,
        "doc_number": None, "case_id": None, "letter_id": None, "issued_on": None,
        "office": instance.settings["office_name"], "superseded_by": None,
        "issued_by_us": False, "sha256": digest, "error": result.error}
    with instance.db.session() as session:
        reply = session.scalars(select(Reply).where(Reply.signed_pdf_sha256 == digest)).first()
        if reply is not None:
            document.update(reply_id=reply.id, doc_number=reply.doc_number,
                            case_id=reply.case_id, letter_id=reply.letter_id,
                            issued_on=(reply.data or {}).get("issue_date"),
                            superseded_by=reply.superseded_by_id, issued_by_us=True)
    document["valid"] = bool(result.valid and document["issued_by_us"])
    if result.valid and not document["issued_by_us"]:
        document["error"] = "signed with our certificate, but not a file this office issued"
    return document


def public_status(instance: Instance, code: str) -> dict[str, Any] | None:
    """What the public verification page shows for a QR code: valid or not, number, date."""
    reply_id = reply_id_of_code(instance, code)
    if reply_id is None:
        return None
    with instance.db.session() as session:
        reply = session.get(Reply, reply_id)
        if reply is None:
            return None
        return {"valid": reply.signed_pdf_sha256 is not None and reply.superseded_by_id is None,
                "signed": reply.signed_pdf_sha256 is not None,
                "superseded": reply.superseded_by_id is not None,
                "doc_number": reply.doc_number,
                "title": letters.template_title(reply.template),
                "recipient": "、".join(mask_name(n) for n in str(
                    (reply.data or {}).get("petitioner_name") or "").split("、") if n),
                "issued_on": (reply.data or {}).get("issue_date"),
                "office": instance.settings["office_name"]}


def mask_name(name: str) -> str:
    """A person's name as a public page may show it: 韩*菊, 李*, 欧阳**."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def resolve_letter(instance: Instance, reference: str) -> int:
    """The id of the letter a user named by id or registration number."""
    with instance.db.session() as session:
        return intake.find_letter(session, reference).id


def _dates(data: dict[str, Any]) -> dict[str, Any]:
    """Turn ISO dates in user data (fields named date or *_date) into dates."""
    out = dict(data)
    for key, value in data.items():
        if (key == "date" or key.endswith("_date")) and isinstance(value, str):
            try:
                out[key] = dt.date.fromisoformat(value)
            except ValueError as e:
                raise ReplyError(f"{key}: not a date (YYYY-MM-DD): {value!r}") from e
    return out


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in context.items()}
