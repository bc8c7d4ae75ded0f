"""重大紧急 (§25): the open matters marked so, for the leaders, with who has been told."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.app.auth import requires, user
from web.app.views import instance
from web.services import urgent as urgent_matters

bp = Blueprint("urgent", __name__, url_prefix="/urgent")


@bp.get("/")
@requires("read_letters")
def index() -> str:
    """Open matters marked 重大、紧急 within the user's scope, and whom §25 says to tell."""
    return render_template("urgent/index.html",
                           rows=urgent_matters.urgent_list(instance(), user()),
                           recipients=urgent_matters.RECIPIENTS)
