"""Signing in and out, and changing one's own password."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from web.app import auth
from web.app.views import instance
from web.services import access

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The sign-in form; failures are counted and make the name wait a little longer each time."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    try:
        who = access.sign_in(instance(), username, request.form.get("password", ""),
                             request.remote_addr or "")
    except access.LoginRefused as e:
        status = 429 if "过多" in str(e) else 401
        return render_template("auth/login.html", error=str(e), username=username[:64],
                               next=request.form.get("next", "")), status
    session.clear()  # a new session on sign-in: nothing planted before it survives (fixation)
    login_user(who)
    session["password_at"] = time.time()  # a signature soon after needs no second password
    return redirect(auth.safe_next(request.form.get("next"), who.role))


@bp.post("/logout")
def logout() -> Response:
    """Sign out and forget the session; a copy of its cookie is refused from now on."""
    me = auth.user()
    if me.is_authenticated:
        access.sign_out(instance(), me)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password() -> str | Response | tuple[str, int]:
    """Change one's own password (the old one is asked again)."""
    me = auth.user()
    if not me.is_authenticated:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/password.html")
    try:
        who = access.change_password(instance(), me, request.form.get("old", ""),
                                     request.form.get("new", ""), request.form.get("again", ""),
                                     request.remote_addr or "")
    except (access.LoginRefused, ValueError) as e:
        return render_template("auth/password.html", error=str(e)), 400
    login_user(who)  # the session now carries the new token; other sessions end
    flash("密码已修改")
    return redirect(auth.home_page(who.role))


def load_user(user_id: int, token: str) -> access.SignedIn | None:
    """Flask-Login's loader: the user, if still active, the session token still matches and
    the session (``token:sign-in id``) was not signed out."""
    token, _, sid = token.partition(":")
    with instance().db.session() as db:
        return access.session_user(db, user_id, token, int(sid) if sid.isdigit() else 0)



