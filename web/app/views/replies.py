"""答复文书: choose a template, fill in its fields, preview, generate, sign, deliver, download.

Who may do what (web.app.auth): clerks, handlers (for the letters they may see) and leaders draft
replies; only leaders sign. A reply is shown and served only to users who may see its letter;
its files come from the blob store by the SHA-256 the Reply row recorded, never from a path a
request names. With the setting background_replies the workers render a generated reply
(web.services.reply_tasks): the form then leads to the task's page, which follows it until it is
done.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as session_store,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

import letters
from records import BlobError, Letter, RecordsError, Reply, intake
from web.app.auth import password_typed_at, requires, user
from web.app.files import reply_file_response
from web.app.views import instance
from web.services import labels, letter_view, sign_confirmation
from web.services.access import letter_scope
from web.services.dates import parse_day
from web.services.errors import ReplyError, ServiceError
from web.services.replies import (
    DELIVERY_METHODS,
    generate_reply,
    letters_without_reply,
    record_delivery,
    sign_reply,
)
from web.services.reply_images import shown_reply_page
from web.services.reply_preview import (
    FIELD_LABELS,
    editable_fields,
    form_fields,
    page_count,
    preview_pages,
    read_form,
    shared_converter,
    template_choices,
)
from web.services.reply_tasks import background_replies, open_reply_tasks, queue_reply, reply_task

bp = Blueprint("replies", __name__, url_prefix="/replies")

# kind in the download URL -> (Reply column, suffix of the file name, Content-Type)
RECENT = 30
NAMELESS = "这封信还没有确认信访人姓名：请先在校对中确认信访人，再拟写答复。"
REFRESH_S = 2  # how often a pending reply task's page reloads itself


def _letter(session: Session, letter_id: int) -> Letter:
    """A letter the signed-in user may see, else 404."""
    try:
        return letter_view.visible_letter(session, user(), letter_id)
    except letter_view.LetterNotFound:
        abort(404)


def _reply(session: Session, reply_id: int) -> tuple[Reply, Letter]:
    """A reply whose letter the signed-in user may see, else 404."""
    try:
        return letter_view.visible_reply(session, user(), reply_id)
    except letter_view.LetterNotFound:
        abort(404)


def _local(moment: dt.datetime | None) -> str:
    """A stored UTC time as the office reads it: 2026-11-24 15:02."""
    if moment is None:
        return ""
    return instance().local_time(moment).strftime("%Y-%m-%d %H:%M")


def _row(reply: Reply, letter: Letter) -> dict[str, Any]:
    return {"id": reply.id, "doc_number": reply.doc_number, "template": reply.template,
            "title": letters.template_title(reply.template), "letter_id": letter.id,
            "reg_no": letter.reg_no, "petitioners": "、".join(intake.petitioner_names(letter)),
            "created_by": reply.created_by, "created_at": _local(reply.created_at),
            "signed_by": reply.signed_by, "signed_at": _local(reply.signed_at),
            "signed": reply.signed_pdf_sha256 is not None,
            "superseded_by": reply.superseded_by_id,
            "delivery_method": reply.delivery_method, "delivered_on": reply.delivered_on,
            "has": {kind: getattr(reply, column) is not None
                    for kind, (column, _, _) in letter_view.REPLY_FILES.items()}}



@bp.get("/")
@requires("draft_replies")
def index() -> str:
    """Replies awaiting a signature, recent replies, and letters still owed one."""
    scope = letter_scope(user())
    with instance().db.session() as session:
        visible = select(Reply, Letter).join(Letter, Reply.letter_id == Letter.id).where(scope)
        awaiting = [_row(r, letter) for r, letter in session.execute(
            visible.where(Reply.signed_pdf_sha256.is_(None), Reply.superseded_by_id.is_(None))
            .order_by(Reply.id))]
        recent = [_row(r, letter) for r, letter in session.execute(
            visible.order_by(Reply.id.desc()).limit(RECENT))]
        mine = set(session.scalars(select(Letter.id).where(scope)))
    owed = [row for row in letters_without_reply(instance()) if row["letter_id"] in mine]
    working = open_reply_tasks(instance(), mine)
    with instance().db.session() as session:
        reg_nos = dict(session.execute(select(Letter.id, Letter.reg_no).where(
            Letter.id.in_([task.letter_id for task in working]))).all())
    working_rows = [{"task": task, "reg_no": reg_nos.get(task.letter_id, ""),
                     "title": letters.template_title(task.template)} for task in working]
    return render_template("replies/index.html", awaiting=awaiting, recent=recent, owed=owed,
                           working=working_rows)


def _new_page(letter_id: int, template: str, values: dict[str, str] | None = None,
              problems: list[str] | None = None, previews: list[str] | None = None,
              status: int = 200) -> tuple[str, int]:
    """The new-reply page for a letter and template, with what the user typed if any."""
    with instance().db.session() as session:
        letter = _letter(session, letter_id)
        try:
            fields = form_fields(instance(), letter, template, values)
            error = None
        except (ReplyError, RecordsError) as e:  # no writer yet, a date past the calendar ...
            fields, error = [], str(e)
        current = session.scalars(select(Reply).where(
            Reply.letter_id == letter.id, Reply.template == template,
            Reply.superseded_by_id.is_(None)).order_by(Reply.id.desc())).first()
        replaces = _row(current, letter) if current else None
        info = letter_view.letter_row(letter)
    letter_view.record_read(instance(), user(), "letter", letter_id)
    shared_converter().warm_up()
    return render_template("replies/new.html", letter=info, template=template,
                           title=letters.template_title(template), templates=template_choices(),
                           fields=fields, error=error, problems=problems or [],
                           replaces=replaces, previews=previews or []), status


def _template(name: str | None) -> str:
    if not name:
        return template_choices()[0][0]
    if name not in letters.template_names():
        abort(404)
    return name


@bp.get("/new/<int:letter_id>")
@requires("draft_replies")
def new(letter_id: int) -> tuple[str, int]:
    """Choose a template and fill in its fields (from the records, or from an earlier reply)."""
    template = _template(request.args.get("template"))
    values = None
    earlier = request.args.get("from", type=int)
    if earlier is not None:
        with instance().db.session() as session:
            reply, _ = _reply(session, earlier)
            if reply.letter_id != letter_id:
                abort(404)
            template, values = reply.template, dict(reply.data or {})
    return _new_page(letter_id, template, values)


@bp.post("/new/<int:letter_id>/preview")
@requires("draft_replies")
def preview(letter_id: int) -> Any:
    """The document as it would come out, page by page (PNG); nothing is recorded."""
    template = _template(request.form.get("template"))
    values, problems = read_form(template, request.form)
    wants_json = request.accept_mimetypes.best == "application/json"
    images: list[bytes] = []
    if not problems:
        with instance().db.session() as session:
            letter = _letter(session, letter_id)
            try:
                images = preview_pages(instance(), letter, template, values, shared_converter())
            except (ServiceError, RecordsError, letters.LettersError) as e:
                problems = [str(e)]
    urls = ["data:image/png;base64," + base64.b64encode(png).decode() for png in images]
    if wants_json:
        if problems:
            return {"error": "；".join(problems), "problems": problems}, 400
        return {"pages": urls}
    return _new_page(letter_id, template, values, problems, urls, 400 if problems else 200)


@bp.post("/new/<int:letter_id>")
@requires("draft_replies")
def generate(letter_id: int) -> Any:
    """Generate the reply: a numbered, recorded .docx and PDF; an older version is superseded.

    With background_replies a worker renders it: the user is led to the task's page.
    """
    template = _template(request.form.get("template"))
    values, problems = read_form(template, request.form)
    with instance().db.session() as session:
        nameless = not intake.petitioner_names(_letter(session, letter_id))
    if problems:
        return _new_page(letter_id, template, values, problems, status=400)
    if background_replies(instance()):
        if nameless:  # refused now, as the form says, rather than by a worker later
            return _new_page(letter_id, template, values, [NAMELESS], status=400)
        task_id = queue_reply(instance(), letter_id, template, values, actor=user().username)
        return redirect(url_for("replies.task", task_id=task_id))
    try:
        outcome = generate_reply(instance(), letter_id, template, out_dir=None,
                                 actor=user().username, data=values,
                                 converter=shared_converter())
    except (ServiceError, RecordsError, letters.LettersError) as e:
        return _new_page(letter_id, template, values, [str(e)], status=400)
    note = f"，替代了旧版本（第 {outcome.superseded} 号记录）" if outcome.superseded else ""
    flash(f"已生成 {outcome.doc_number}{note}")
    return redirect(url_for("replies.show", reply_id=outcome.reply_id))


@bp.get("/tasks/<int:task_id>")
@requires("draft_replies")
def task(task_id: int) -> str:
    """A reply being rendered by the workers: queued, running, failed (why) or done (its link).

    While pending the page reloads itself every REFRESH_S seconds (a meta refresh: no script).
    """
    found = reply_task(instance(), task_id)
    if found is None:
        abort(404)
    with instance().db.session() as session:
        info = letter_view.letter_row(_letter(session, found.letter_id))
    return render_template("replies/task.html", task=found, letter=info,
                           title=letters.template_title(found.template), refresh=REFRESH_S)


@bp.get("/<int:reply_id>")
@requires("draft_replies")
def show(reply_id: int) -> str:
    """One reply: its data, pages, versions, signature, delivery and downloads."""
    with instance().db.session() as session:
        reply, letter = _reply(session, reply_id)
        letter_view.record_read(instance(), user(), "reply", reply.id, letter_id=letter.id)
        row = _row(reply, letter)
        versions = [_row(r, letter) for r in session.scalars(select(Reply).where(
            Reply.letter_id == letter.id, Reply.template == reply.template).order_by(Reply.id))]
        recorded = reply.data or {}
        try:
            names = ["doc_number", *editable_fields(reply.template)]
        except letters.LettersError:  # the office has since removed its template
            names = list(recorded)
        data = [(FIELD_LABELS.get(name, name), recorded[name]) for name in names
                if name in recorded]
        shown = reply.signed_pdf_sha256 or reply.pdf_sha256
        pages = _pages(shown)
        info = letter_view.letter_row(letter)
        template_version = reply.template_version
    may_sign = (user().can("sign_replies") and not row["signed"]
                and row["superseded_by"] is None)
    return render_template("replies/show.html", reply=row, letter=info, versions=versions,
                           data=data, pages=pages, may_sign=may_sign,
                           methods=DELIVERY_METHODS, today=instance().today(),
                           template_version=template_version)


def _pages(sha256: str | None) -> int:
    if sha256 is None:
        return 0
    try:
        return page_count(instance().blobs.path(sha256))
    except (BlobError, OSError):
        return 0


@bp.get("/<int:reply_id>/pages/<int:number>.png")
@requires("draft_replies")
def page(reply_id: int, number: int) -> Response:
    """One page of the reply (the signed PDF once there is one) as a PNG, masked as a scan is."""
    try:
        image = shown_reply_page(instance(), user(), reply_id, number)
    except letter_view.LetterNotFound:
        abort(404)
    if image is None:
        abort(404)
    return Response(image, mimetype="image/png")


@bp.get("/<int:reply_id>/sign")
@requires("sign_replies")
def confirm_sign(reply_id: int) -> str | BaseResponse:
    """The last look before a signature: the first page, who it goes to, the password again."""
    return _confirm_page(reply_id)


def _confirm_page(reply_id: int, error: str | None = None, status: int = 200) -> Any:
    with instance().db.session() as session:
        reply, letter = _reply(session, reply_id)
        if reply.superseded_by_id is not None or reply.signed_pdf_sha256:
            return redirect(url_for("replies.show", reply_id=reply_id))
        row, info = _row(reply, letter), letter_view.letter_row(letter)
        pages = _pages(reply.pdf_sha256)
        recipient = (reply.data or {}).get("petitioner_name", "")
    return render_template("replies/sign.html", reply=row, letter=info, pages=pages,
                           recipient=recipient, error=error,
                           ask_password=not _password_fresh()), status


def _person(session: Session, username: str | None) -> str:
    return labels.person(username, labels.display_names(session, [username or ""]))


def _password_fresh() -> bool:
    return sign_confirmation.password_fresh(
        session_store.get("password_at"), time.time(),
        int(instance().settings["sign_again_minutes"]))


@bp.post("/<int:reply_id>/sign")
@requires("sign_replies")
def sign(reply_id: int) -> Any:
    """Sign the reply: the signed PDF with the seal and the QR code of its verification link."""
    with instance().db.session() as session:
        reply, _ = _reply(session, reply_id)
        refusal = ("此文书已被新版本替代，请签署现行版本" if reply.superseded_by_id is not None
                   else f"此文书已由 {_person(session, reply.signed_by)} 签章"
                   if reply.signed_pdf_sha256 else None)
    if refusal:
        flash(f"未能签章：{refusal}")
        return redirect(url_for("replies.show", reply_id=reply_id))
    confirmation = sign_confirmation.Confirmation(
        confirmed=request.form.get("confirmed") == "1",
        password=request.form.get("password") or None, password_at=password_typed_at(),
        remote_addr=request.remote_addr or "", via="web")
    try:
        outcome = sign_reply(instance(), reply_id, actor=user().username,
                             confirmation=confirmation, converter=shared_converter())
    except sign_confirmation.SignRefused as e:
        return _confirm_page(reply_id, error=str(e), status=400)
    except (ServiceError, RecordsError, letters.LettersError) as e:
        flash(f"未能签章：{e}")
    else:
        if confirmation.password:
            session_store["password_at"] = time.time()
        flash(f"已签章 {outcome.doc_number}")
    return redirect(url_for("replies.show", reply_id=reply_id))


@bp.post("/<int:reply_id>/delivery")
@requires("draft_replies")
def deliver(reply_id: int) -> BaseResponse:
    """Record how (邮寄, 当面, 网上) and when the reply reached the petitioner."""
    with instance().db.session() as session:
        _reply(session, reply_id)
    method = request.form.get("method", "")
    try:
        day = parse_day(request.form.get("on", ""), what="送达日期")
        record_delivery(instance(), reply_id, method, day, user().username)
    except ServiceError as e:
        flash(str(e))
    else:
        flash(f"已登记送达：{method}，{day.isoformat()}")
    return redirect(url_for("replies.show", reply_id=reply_id))


@bp.get("/<int:reply_id>/<kind>")
@requires("draft_replies")
def download(reply_id: int, kind: str) -> Response:
    """A reply's .docx, PDF or signed PDF, for users who may see its letter; audited."""
    return reply_file_response(reply_id, kind)
