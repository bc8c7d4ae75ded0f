"""The petitioner's query page (§18, §21 ¶2): no sign-in, never indexed, never cached.

A petitioner types the query code of the 受理告知书; the code travels in the form body, never
in the address (addresses end up in logs and histories). The rules are in
web.services.public_query; this module only reads the form and renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from web.app.views import instance
from web.services.public_query import QueryRefused, TooManyTries, evaluate, look_up

bp = Blueprint("query", __name__, url_prefix="/query")


@bp.after_request
def _private(response: Any) -> Any:
    """Nothing here for search engines, and no copy kept anywhere along the way."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/", methods=["GET", "POST"])
def ask() -> Any:
    """The form for a query code, and the matter it opens."""
    if request.method == "GET":
        return render_template("query/page.html", matter=None, code="")
    code = (request.form.get("code") or "")[:40]
    try:
        matter = look_up(instance(), code, request.remote_addr or "")
    except QueryRefused as e:
        return _refused(e, code)
    return render_template("query/page.html", matter=matter, code=code)


@bp.post("/evaluate", endpoint="evaluate")
def evaluate_matter() -> Any:
    """The petitioner's one evaluation, after the 处理意见书 was delivered."""
    code = (request.form.get("code") or "")[:40]
    try:
        matter = evaluate(instance(), code, (request.form.get("rating") or "").strip(),
                          (request.form.get("note") or "").strip(), request.remote_addr or "")
    except QueryRefused as e:
        return _refused(e, code)
    return render_template("query/page.html", matter=matter, code=code,
                           done=None if matter["refusal"] else "感谢您的评价，已记录。"), (
        422 if matter["refusal"] else 200)


def _refused(error: QueryRefused, code: str) -> Any:
    if isinstance(error, TooManyTries):
        return (render_template("query/page.html", matter=None, code="", error=str(error)), 429,
                {"Retry-After": str(error.seconds)})
    return render_template("query/page.html", matter=None, code=code, error=str(error)), 404
