"""扫描登记 (being built)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from web.auth import requires

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.get("/")
@requires("intake")
def index() -> str:
    """The area's first page."""
    return render_template("intake/index.html")


@bp.post("/upload")
@requires("intake")
def upload() -> str:
    """Not built yet."""
    abort(404)


@bp.get("/progress")
@requires("intake")
def progress() -> str:
    """Not built yet."""
    abort(404)
