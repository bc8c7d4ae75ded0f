"""常用筛选: each user's saved filters of a list, kept on the server (web.services.saved_filters).

The list pages include ``_list_tools.html``, which asks ``saved_filters(list_key)`` for the
signed-in user's filters (links that apply them) and posts here to save or delete one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request
from werkzeug.wrappers import Response

from web.app.auth import requires, user
from web.app.views import instance
from web.services import saved_filters
from web.services.errors import ServiceError

bp = Blueprint("filters", __name__, url_prefix="/filters")


@bp.app_template_global("saved_filters")
def listed(list_key: str) -> list[dict[str, Any]]:
    """The signed-in user's filters of a list, for the list's filter bar."""
    return saved_filters.filters_of(instance(), user(), list_key)


def _back() -> Response:
    """Back to the list the form was on (a path of this site only)."""
    target = request.form.get("next", "")
    parts = urlsplit(target)
    safe = target.startswith("/") and not target.startswith("//") and not parts.netloc
    return redirect(target if safe else "/")


@bp.post("/")
@requires("dashboard")
def save() -> Response:
    """Keep the list's current filter (its query string) under the name typed."""
    try:
        saved = saved_filters.save_filter(instance(), user(), request.form.get("list", ""),
                                          request.form.get("name", ""),
                                          request.form.get("query", ""))
    except ServiceError as e:
        flash(f"未能保存筛选：{e}")
    else:
        flash(f"已保存筛选“{saved['name']}”")
    return _back()


@bp.post("/<int:filter_id>/remove")
@requires("dashboard")
def remove(filter_id: int) -> Response:
    """Delete one of the user's saved filters."""
    try:
        saved_filters.remove_filter(instance(), user(), filter_id)
    except ServiceError as e:
        flash(f"未能删除筛选：{e}")
    else:
        flash("已删除筛选")
    return _back()
