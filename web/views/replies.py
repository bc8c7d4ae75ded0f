"""答复文书 (being built)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web.auth import requires

bp = Blueprint("replies", __name__, url_prefix="/replies")


@bp.get("/")
@requires("draft_replies")
def index() -> str:
    """The area's first page."""
    return render_template("replies/index.html")


@bp.get("/new/<int:letter_id>")
@requires("draft_replies")
def new(letter_id: int) -> str:
    """Not built yet."""
    abort(404)


@bp.get("/<int:reply_id>")
@requires("draft_replies")
def show(reply_id: int) -> str:
    """Not built yet."""
    abort(404)


@bp.post("/<int:reply_id>/sign")
@requires("sign_replies")
def sign(reply_id: int) -> str:
    """Not built yet."""
    abort(404)


@bp.get("/<int:reply_id>/<kind>")
@requires("draft_replies")
def download(reply_id: int, kind: str) -> str:
    """Not built yet."""
    abort(404)
