"""Letters: the register (newest first), one letter, and search over all of them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy import func, select

import search
from records import Letter, audit, intake, mask_id_numbers
from web.auth import letter_scope, may_see_letter, requires, user
from web.instance import Instance

bp = Blueprint("letters", __name__)
PER_PAGE = 50


def _instance() -> Instance:
    instance: Instance = current_app.extensions["huiyin"]
    return instance


@bp.get("/")
@requires("read_letters")
def register() -> str:
    """The register of letters, newest first, 50 to a page."""
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    with _instance().db.session() as session:
        scope = letter_scope(user())
        total = session.scalar(select(func.count()).select_from(Letter).where(scope)) or 0
        rows = session.scalars(
            select(Letter).where(scope).order_by(Letter.id.desc())
            .offset((page - 1) * PER_PAGE).limit(PER_PAGE)
        ).all()
        letters = [_row(letter) for letter in rows]
    return render_template("letters/register.html", letters=letters, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)))


@bp.get("/letters/<int:letter_id>")
@requires("read_letters")
def show(letter_id: int) -> str:
    """One letter: its registration data, proposed fields and the text of each page."""
    with _instance().db.session() as session:
        letter = session.get(Letter, letter_id)
        if letter is None or not may_see_letter(user(), letter):
            abort(404)
        audit.record(session, user().username, "read", "letter", letter.id)
        row = _row(letter)
        pages = [{"number": p.number, "text": p.text, "source": p.source,
                  "score": p.mean_score} for p in letter.pages]
        row.update(text=letter.text, extracted=letter.extracted, error=letter.ingest_error)
    return render_template("letters/show.html", letter=row, pages=pages)


@bp.get("/search")
@requires("read_letters")
def find() -> str:
    """Search the letters; the query is user text and never trusted."""
    query = request.args.get("q", "").strip()
    hits, total, error = [], 0, None
    if query:
        try:
            result = _instance().index.search(query, limit=50)
        except search.QueryError as e:
            error = str(e)
        else:
            total = result.total
            with _instance().db.session() as session:
                by_id = {letter.id: _row(letter) for letter in session.scalars(
                    select(Letter).where(Letter.id.in_([h.letter_id for h in result.hits]),
                                         letter_scope(user())))}
            hits = [{**by_id[h.letter_id], "snippet": Markup(mask_id_numbers(h.snippet))}
                    for h in result.hits if h.letter_id in by_id]
    return render_template("letters/search.html", query=query, hits=hits, total=total,
                           error=error)


def _row(letter: Letter) -> dict[str, object]:
    return {
        "id": letter.id,
        "reg_no": letter.reg_no,
        "received_on": letter.received_on,
        "petitioners": "、".join(intake.petitioner_names(letter)),
        "summary": letter.summary,
        "pages": letter.page_count,
        "state": letter.ingest_state,
        "source_name": letter.source_name,
    }
