"""校对 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@requires("review")
def queue() -> str:
    """The area's first page."""
    return render_template("review/queue.html")
