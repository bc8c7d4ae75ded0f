"""系统管理 (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@requires("admin")
def index() -> str:
    """The area's first page."""
    return render_template("admin/index.html")
