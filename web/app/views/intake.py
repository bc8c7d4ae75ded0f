"""扫描登记: drop many scans on the page; each is stored, read by the worker, and indexed.

intake.js sends one file per request as the raw request body (its name, URL-encoded, in the
X-File-Name header), so the upload streams straight into a temporary file in the instance
folder; the page then polls `progress` for every letter until it is indexed or has failed.
A plain form (multipart/form-data, field ``file``, one or more files) works too, without
JavaScript: each file gets the same checks and its own line in the answer.
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast
from urllib.parse import unquote

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from web.app.auth import requires, user
from web.app.views import instance
from web.services import intake as intake_files

bp = Blueprint("intake", __name__, url_prefix="/intake")

NO_FILE = "上传内容中没有文件：表单须为 multipart/form-data，文件放在 file 字段"
EXPIRED = "页面已过期或缺少 CSRF 令牌：请刷新扫描登记页面后重新上传"
BROKEN = "上传中断或格式错误：请求体不完整（连接中断）或 multipart 格式有误，请重新上传"


@bp.get("/")
@requires("intake")
def index() -> str:
    """The drop zone, and what the watched folder has taken lately."""
    return render_template("intake/index.html",
                           folder=intake_files.folder_listing(instance()),
                           max_mb=intake_files.MAX_BYTES >> 20)


@bp.post("/upload")
@requires("intake")
def upload() -> ResponseReturnValue:
    """One file as the request body (or files in a form): registered and queued, or refused."""
    if request.mimetype == "multipart/form-data":
        return _form_upload()
    name = unquote(request.headers.get("X-File-Name", ""))
    received = intake_files.receive(instance(), name, lambda: cast(BinaryIO, request.stream),
                                    actor=user().username, declared_size=request.content_length)
    document = _with_links(received.as_dict())
    return jsonify(document), 422 if received.error else 200


def _form_upload() -> ResponseReturnValue:
    """The form's way: every file in the ``file`` field, each answered on its own."""
    files = [f for f in request.files.getlist("file") if f is not None]
    if not files:
        return _refuse(NO_FILE, 400)
    results = []
    for storage in files:
        received = intake_files.receive(instance(), storage.filename or "",
                                        cast(BinaryIO, storage.stream), actor=user().username)
        results.append(_with_links(received.as_dict()))
        storage.close()
    status = 422 if any(r["error"] for r in results) else 200
    if _wants_json():
        return jsonify({"results": results}), status
    for r in results:
        flash(f"{r['file']}：{_outcome(r)}")
    return redirect(url_for("intake.index"), 303)


def _outcome(received: dict[str, Any]) -> str:
    if received["error"]:
        return str(received["error"])
    if received["letter_id"] is None:
        return f"与已登记的来信 {received['reg_no']} 内容相同，未重复登记"
    return f"已登记 {received['reg_no']}，原件已保存，排队等待识别"


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_: RequestEntityTooLarge) -> ResponseReturnValue:
    """Over the upload limit, found by the form parser before the view ran: say so plainly."""
    return _refuse(intake_files.too_large(), 413)


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest) -> ResponseReturnValue:
    """A cut-off or malformed upload, or a missing CSRF token: a message, not a bare 400."""
    if request.endpoint != "intake.upload":
        return render_template("error.html", error=error), error.code or 400
    return _refuse(EXPIRED if isinstance(error, CSRFError) else BROKEN, 400)


def _refuse(message: str, status: int) -> ResponseReturnValue:
    if _wants_json() or request.endpoint != "intake.upload" or \
            request.mimetype != "multipart/form-data":
        return jsonify({"file": None, "letter_id": None, "error": message}), status
    flash(message)
    return redirect(url_for("intake.index"), 303)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/progress")
@requires("intake")
def progress() -> ResponseReturnValue:
    """Where each letter (?ids=3,4,5) is: stored, OCR page n of m, indexed, or its error."""
    raw = request.args.get("ids", "")
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()][:200]
    found = [_with_links(item) for item in intake_files.progress(instance(), ids)]
    return jsonify({"letters": found})


def _with_links(item: dict[str, Any]) -> dict[str, Any]:
    letter_id = item.get("letter_id") or item.get("duplicate_of")
    if letter_id:
        item["review_url"] = url_for("review.letter", letter_id=letter_id)
        item["letter_url"] = url_for("letters.show", letter_id=letter_id)
    return item
