"""案件 (being built)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web.auth import requires

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@requires("read_letters")
def index() -> str:
    """The area's first page."""
    return render_template("cases/index.html")


@bp.get("/<int:case_id>")
@requires("read_letters")
def show(case_id: int) -> str:
    """Not built yet."""
    abort(404)
