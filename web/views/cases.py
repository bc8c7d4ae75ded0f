"""案件 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@requires("read_letters")
def index() -> str:
    """The area's first page."""
    return render_template("cases/index.html")
