"""工作台 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@requires("dashboard")
def index() -> str:
    """The area's first page."""
    return render_template("dashboard/index.html")
