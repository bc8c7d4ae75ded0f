"""校对: the clerk's main screen — the scan beside its OCR text, line edits, the letter's details.

Every change works as a plain form (the page reloads) and through fetch with JSON answers
(review.js asks with ``Accept: application/json``): 200 with the new values, 400 with a
message, 409 with the letter as someone else has just changed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

import search
from records import Letter, Page, RecordsError, cases
from web.app.auth import requires, user
from web.app.integers import as_int as _int  # a number too large for a column is no number
from web.app.views import instance
from web.services import letter_view, review
from web.services.access import letter_scope, may_see_letter
from web.services.linking import propose_cases
from web.services.page_images import PageImageError

bp = Blueprint("review", __name__, url_prefix="/review")
KEYS = (  # documented on the page; review.js implements them
    ("j / ↓", "下一行"), ("k / ↑", "上一行"), ("n", "下一处低置信度行"),
    ("Shift+N", "上一处低置信度行"), ("Enter / e", "编辑所选行"),
    ("Enter / Ctrl+Enter", "保存正在编辑的行"), ("Esc", "取消编辑"),
    ("Ctrl+S / Ctrl+Enter", "保存登记信息并进入下一件"), ("m", "跳到登记信息表"),
    ("Enter（表中）", "下一个输入框"),
)


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@bp.get("/")
@requires("review")
def queue() -> str:
    """Letters read but not yet reviewed, oldest first."""
    letters = review.review_queue(instance(), letter_scope(user()))
    return render_template("review/queue.html", letters=letters)


@bp.get("/letters/<int:letter_id>")
@requires("review")
def letter(letter_id: int) -> Any:
    """One letter to review: scan, lines, details, proposed cases (the read is audited)."""
    return _page(letter_id)


def _page(letter_id: int, *, status: int = 200, form: dict[str, Any] | None = None,
          error: str | None = None, conflict: dict[str, Any] | None = None,
          choice: str | None = None, version: int | None = None,
          field: str | None = None) -> Any:
    """Render the review screen; after a refused save, with what the clerk had typed."""
    with instance().db.session() as session:
        found = session.get(Letter, letter_id)
        if found is None or not may_see_letter(user(), found):
            abort(404)
        data = review.review_data(instance(), session, found)
    letter_view.record_read(instance(), user(), "letter", letter_id, via="review")
    if version is not None:  # refused for bad input: the form stays on the version it was typed on
        data["version"] = version
    if form is not None:  # a refused save: what the clerk typed
        data["form"] = {**form, "petitioners": [row for row in form["petitioners"]
                                                if any(row.values())]}
    try:
        proposals = [p.as_dict() for p in propose_cases(instance(), letter_id)]
    except search.SearchError:
        proposals = []  # not in the index yet: no content to compare
    if choice is None:
        choice = "keep" if data["case_id"] else next(
            (str(p["case_id"]) for p in proposals if p["repeat"]), "new")
    chosen = next((p for p in proposals if str(p["case_id"]) == choice), None)
    if chosen and chosen["category"] and not data["form"]["category"]:
        data["form"]["category"] = chosen["category"]  # a follow-up: the case's category
    following = review.next_in_queue(instance(), letter_scope(user()), letter_id)
    rows = data["form"]["petitioners"]
    blanks = max(2, 3 - len(rows))
    return render_template("review/letter.html", l=data, proposals=proposals, choice=choice,
                           petitioner_rows=[*rows, *({} for _ in range(blanks))],
                           keys=KEYS, error=error, conflict=conflict, next_id=following,
                           field=field,
                           low_score=review.LOW_SCORE), status


@bp.get("/letters/<int:letter_id>/pages/<int:number>.png")
@requires("read_letters")
def page_image(letter_id: int, number: int) -> Response:
    """The scan of page ``number`` as a PNG, sized for the screen (cached, derived); with the
    ID and mobile numbers covered for the roles that see them masked (letter_view)."""
    try:
        image = letter_view.shown_page_image(instance(), user(), letter_id, number)
    except (letter_view.LetterNotFound, PageImageError) as e:
        abort(404, description=str(e))
    response = send_file(image.path, mimetype="image/png", conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"  # personal data: keep no copy
    response.headers["X-Page-Scale"] = f"{image.scale:.6f}"
    response.headers["X-Page-Masked"] = "0" if letter_view.sees_full_ids(user()) else "1"
    return response


@bp.post("/letters/<int:letter_id>/lines")
@requires("review")
def edit_line(letter_id: int) -> Any:
    """Correct one OCR line (fields: page_id, line [0-based], text, version)."""
    values: Mapping[str, Any] = request.form
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400, description="请求体须为 JSON 对象")
        values = data
    page_id, line = _int(values.get("page_id")), _int(values.get("line"))
    with instance().db.session() as session:
        found = session.get(Letter, letter_id)
        if found is None or not may_see_letter(user(), found):
            abort(404)
        page = session.get(Page, page_id) if page_id is not None else None
        if page is None or page.letter_id != letter_id or line is None:
            abort(404, description="没有这一行")
        number = page.number
    text = str(values.get("text", ""))
    try:
        result = review.edit_line(instance(), page_id or 0, line, text, actor=user().username,
                                  expected_version=_int(values.get("version")))
    except review.ReviewConflict as e:
        conflict = {**e.current, "yours": text, "where": f"第 {number} 页第 {line + 1} 行"}
        if _wants_json():
            return {"error": str(e), "conflict": conflict, "status": 409}, 409
        return _page(letter_id, status=409, error=str(e), conflict=conflict)
    except review.ReviewError as e:
        if _wants_json():
            return {"error": str(e), "status": 400}, 400
        return _page(letter_id, status=400, error=str(e), version=_int(values.get("version")))
    if _wants_json():
        return result
    if result["changed"]:
        flash(f"第 {number} 页第 {line + 1} 行已保存（原识别文字已保留）")
    return redirect(url_for("review.letter", letter_id=letter_id, _anchor=f"l-{number}-{line}"))


@bp.post("/letters/<int:letter_id>")
@requires("review")
def save(letter_id: int) -> Any:
    """Confirm the letter's details and its case; then on to the next letter in the queue."""
    with instance().db.session() as session:
        found = session.get(Letter, letter_id)
        if found is None or not may_see_letter(user(), found):
            abort(404)
    form = _form_values()
    choice = request.form.get("case", "keep")
    try:
        target = _case_choice(choice, request.form.get("case_no", ""))
        result = review.save_metadata(instance(), letter_id, form, actor=user().username,
                                      expected_version=_int(request.form.get("version")),
                                      case=target, low_lines_checked=request.form.get(
                                          "low_lines_checked") == "1")
    except review.ReviewConflict as e:
        return _page(letter_id, status=409, form=form, error=str(e), conflict=e.current,
                     choice=choice)
    except review.ReviewError as e:
        return _page(letter_id, status=400, form=form, error=str(e), choice=choice,
                     version=_int(request.form.get("version")), field=e.field)
    if result["opened"]:
        unit = f"，按分流表交 {result['unit']}" if result["unit"] else ""
        flash(f"来信 {result['reg_no']} 已校对，新建案件 {result['case_no']}{unit}")
    elif result["case_no"]:
        flash(f"来信 {result['reg_no']} 已校对，属于案件 {result['case_no']}")
    else:
        flash(f"来信 {result['reg_no']} 已校对（尚未关联案件）")
    following = review.next_in_queue(instance(), letter_scope(user()), letter_id)
    if following is None:
        return redirect(url_for("review.queue"))
    return redirect(url_for("review.letter", letter_id=following))


def _form_values() -> dict[str, Any]:
    """The review form as save_metadata takes it: petitioner rows p0_name, p0_phone ..."""
    rows = []
    for n in range(50):
        if f"p{n}_name" not in request.form:
            break
        rows.append({k: request.form.get(f"p{n}_{k}", "") for k in review.PETITIONER_FIELDS})
    return {"petitioners": rows,
            **{k: request.form.get(k, "") for k in review.LETTER_FIELDS}}


def _case_choice(choice: str, case_no: str) -> str | int | None:
    """"new", a proposed case's id, "other" with a case number, or "keep" (None)."""
    if choice in ("keep", "none", ""):
        return None
    if choice == "new":
        return "new"
    if choice == "other":
        if not case_no.strip():
            raise review.ReviewError("请填写要并入的案件编号（如 XF-2026-000001）")
        with instance().db.session() as session:
            try:
                return cases.get_case(session, case_no.strip()).id
            except RecordsError as e:
                raise review.ReviewError(f"没有找到案件“{case_no.strip()}”") from e
    number = _int(choice)
    if number is None:
        raise review.ReviewError("请选择新建案件，或选择要并入的已有案件")
    return number

