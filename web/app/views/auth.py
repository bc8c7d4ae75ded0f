"""Signing in and out, and changing one's own password."""

from __future__ import annotations

import time
from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from records import AuditEvent, User, audit
from records.models import utcnow
from web.app import auth
from web.app.views import instance
from web.services import access

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """The sign-in form; failures are counted and lock the name for a while."""
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    with instance().db.session() as db:
        try:
            user = access.authenticate(db, username, request.form.get("password", ""),
                                     request.remote_addr or "", utcnow())
        except access.LoginRefused as e:
            status = 429 if "过多" in str(e) else 401
            return render_template("auth/login.html", error=str(e), username=username[:64],
                                   next=request.form.get("next", "")), status
        event = audit.record(db, user.username, "login", "user", user.id)
        db.flush()
        who = replace(access.signed_in(db, user), session_id=event.id)
    session.clear()  # a new session on sign-in: nothing planted before it survives (fixation)
    login_user(who)
    session["password_at"] = time.time()  # a signature soon after needs no second password
    return redirect(auth.safe_next(request.form.get("next"), who.role))


@bp.post("/logout")
def logout() -> Response:
    """Sign out and forget the session; a copy of its cookie is refused from now on."""
    me = auth.user()
    if me.is_authenticated and me.session_id:
        with instance().db.session() as db:
            audit.record(db, me.username, "logout", "session", me.session_id)
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
    new = request.form.get("new", "")
    with instance().db.session() as db:
        user = db.get(User, me.id)
        assert user is not None
        try:
            access.authenticate(db, me.username, request.form.get("old", ""),
                              request.remote_addr or "", utcnow())
            if new != request.form.get("again", ""):
                raise ValueError("两次输入的新密码不一致")
            access.check_password_strength(new, me.username)
        except (access.LoginRefused, ValueError) as e:
            return render_template("auth/password.html", error=str(e)), 400
        user.password_hash = access.hash_password(new)
        audit.record(db, me.username, "change-password", "user", user.id)
        who = replace(access.signed_in(db, user), session_id=me.session_id)
    login_user(who)  # the session now carries the new token; other sessions end
    flash("密码已修改")
    return redirect(auth.home_page(who.role))


def load_user(user_id: int, token: str) -> access.SignedIn | None:
    """Flask-Login's loader: the user, if still active, the session token still matches and
    the session (``token:sign-in id``) was not signed out."""
    token, _, sid = token.partition(":")
    with instance().db.session() as db:
        user = db.get(User, user_id)
        if user is None or not user.active or access.session_token(user) != token:
            return None
        session_id = int(sid) if sid.isdigit() else 0
        if session_id and db.scalar(select(AuditEvent.id).where(
                AuditEvent.entity == "session", AuditEvent.entity_id == session_id,
                AuditEvent.action == "logout").limit(1)) is not None:
            return None
        return replace(access.signed_in(db, user), session_id=session_id)



