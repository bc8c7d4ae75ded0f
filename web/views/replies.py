"""答复文书 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("replies", __name__, url_prefix="/replies")


@bp.get("/")
@requires("draft_replies")
def index() -> str:
    """The area's first page."""
    return render_template("replies/index.html")
