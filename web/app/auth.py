"""Flask's side of signing in: the guard on each view, the session and the API's bearer token.

The rules themselves (capabilities, scopes, passwords, sign-in throttling) are
web.services.access; this module only connects them to Flask-Login and to requests.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import LoginManager, current_user

from web.services import api_tokens
from web.services.access import CAPABILITIES, SignedIn

F = TypeVar("F", bound=Callable[..., Any])

def requires(capability: str) -> Callable[[F], F]:
    """Guard a view: 401/login for strangers, 403 for a role without the capability."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not current_user.can(capability):
                abort(403)
            return view(*args, **kwargs)

        guarded.capability = capability  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def user() -> SignedIn:
    """The signed-in user of this request (views guarded by `requires` always have one)."""
    return current_user._get_current_object()


API_TOKEN_HOURS = api_tokens.TOKEN_HOURS


def password_typed_at() -> dt.datetime | None:
    """When this request's user last typed the password: the API token's sign-in, else the
    page's sign-in or last signature (a signature's freshness, web.services.sign_confirmation)."""
    token = bearer(request.headers.get("Authorization", ""))
    if token:
        return api_tokens.issued_at(current_app.extensions["huiyin"], token)
    typed = session.get("password_at")
    return dt.datetime.fromtimestamp(typed, dt.UTC) if typed else None


def api_token(user: SignedIn) -> str:
    """A bearer token for the JSON API: opaque, expiring, revocable (web.services.api_tokens)."""
    return api_tokens.issue(current_app.extensions["huiyin"], user)


def bearer(header: str) -> str:
    """The token of an ``Authorization: Bearer ...`` header ("" when there is none)."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _api_user(header: str) -> SignedIn | None:
    token = bearer(header)
    return api_tokens.user_of(current_app.extensions["huiyin"], token) if token else None


def login_manager(load: Callable[[int, str], SignedIn | None]) -> LoginManager:
    """Flask-Login wired to our session token; strangers go to the sign-in page.

    Pages use the session cookie; the API uses only a bearer token (a cookie is never enough
    there, so the API needs no CSRF token and a forged cross-site request carries nothing).
    """
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "请先登录"
    manager.session_protection = "strong"

    @manager.user_loader
    def _load(user_id: str) -> SignedIn | None:
        if request.path.startswith("/api/"):
            return None
        ident, _, token = user_id.partition(":")
        return load(int(ident), token) if ident.isdigit() else None

    @manager.request_loader
    def _load_bearer(req: Any) -> SignedIn | None:
        if not req.path.startswith("/api/"):
            return None
        return _api_user(req.headers.get("Authorization", ""))

    @manager.unauthorized_handler
    def _unauthorized() -> Any:
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    return manager


# Where each role starts its day.
HOME_PAGES = {"clerk": "letters.register", "handler": "cases.index", "leader": "dashboard.index",
              "admin": "admin.index"}


def home_page(role: str) -> str:
    """The first page of a role's working day."""
    return url_for(HOME_PAGES.get(role, "dashboard.index"))


def safe_next(target: str | None, role: str) -> str:
    """Only a path on this site; never an open redirect to another host.

    Browsers drop tabs and line breaks from a Location and read a backslash as a slash, so
    any of those (or another control or space character) makes the target unsafe.
    """
    if (not target or not target.startswith("/") or target.startswith("//")
            or any(c == "\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)):
        return home_page(role)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home_page(role)
    return target
