"""扫描登记 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.get("/")
@requires("intake")
def index() -> str:
    """The area's first page."""
    return render_template("intake/index.html")
