"""校对 (being built)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web.auth import requires

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@requires("review")
def queue() -> str:
    """The area's first page."""
    return render_template("review/queue.html")


@bp.get("/letters/<int:letter_id>")
@requires("review")
def letter(letter_id: int) -> str:
    """Not built yet."""
    abort(404)


@bp.get("/letters/<int:letter_id>/pages/<int:number>.png")
@requires("review")
def page_image(letter_id: int, number: int) -> str:
    """Not built yet."""
    abort(404)
