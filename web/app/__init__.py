"""The Flask application factory: the web face of one instance."""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, current_app, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import search
from records.privacy import MaskingFilter
from web.app import auth, display
from web.app.integers import BoundedIntConverter, BoundedParams
from web.services.instance import Instance, default_home
from web.services.settings import trusted_proxies

# One blueprint per area of the working day; each module web/views/AREA.py has `bp`.
AREAS = ("auth", "letters", "intake", "review", "cases", "replies", "dashboard", "admin", "api",
         "verify", "query", "channels", "urgent", "filters")
# Everything else needs a signed-in user (on the API: a bearer token, see web.app.auth).
# Loggers whose lines may carry a file name or a query: ID and phone numbers masked there.
MASKED_LOGGERS = ("huiyin", "huiyin.worker", "huiyin.serve", "gunicorn.error", "waitress",
                  "werkzeug", "web.app")
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "verify.by_code", "verify.upload",
                              "api.token", "api.openapi", "api.docs",
                              "query.ask", "query.evaluate"})  # the petitioner's page (§21 ¶2)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for the instance at config["HUIYIN_HOME"] (default: --home's default)."""
    app = Flask(__name__)
    app.config.from_mapping(HUIYIN_HOME=str(default_home()), MAX_CONTENT_LENGTH=200 << 20)
    if config:
        app.config.from_mapping(config)
    app.request_class = SpoolingRequest
    app.url_map.converters["int"] = BoundedIntConverter  # before any route: ids fit a column
    instance = Instance(Path(app.config["HUIYIN_HOME"]))
    instance.check_ready()
    # the tolerant search's tables, loaded beside the first requests rather than in one
    threading.Thread(target=search.prepare_tolerance, name="search-tables", daemon=True).start()
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance.home)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=bool(instance.settings["secure_cookies"]),
                      SESSION_COOKIE_NAME="huiyin_session", WTF_CSRF_TIME_LIMIT=None,
                      PERMANENT_SESSION_LIFETIME=12 * 3600)
    app.extensions["huiyin"] = instance
    app.wsgi_app = FromTrustedProxy(app.wsgi_app,  # type: ignore[method-assign]
                                    trusted_proxies(instance.settings))
    app.session_interface = _SessionInterface()

    from web.app.views.auth import load_user

    csrf = CSRFProtect(app)
    auth.login_manager(load_user).init_app(app)
    for area in AREAS:
        blueprint = importlib.import_module(f"web.app.views.{area}").bp
        app.register_blueprint(blueprint)
        if area == "api":
            csrf.exempt(blueprint)  # bearer tokens, no cookies: nothing for CSRF to forge
    app.jinja_env.globals["home_page"] = auth.home_page
    display.register(app)
    app.before_request(_require_login)
    app.after_request(_security_headers)
    app.after_request(_audit_refusal)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(OverflowError, _number_too_large)
    app.register_error_handler(DataError, _number_too_large)
    _mask_logs()
    return app


def _mask_logs() -> None:
    """Filters on the loggers themselves, so handlers added later (serve's) get masked lines."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


class FromTrustedProxy:
    """The client's address from X-Forwarded-For, only on requests from a trusted proxy.

    Behind the reverse proxy docs/deployment.md recommends every request comes from the
    proxy's address; sign-in delays per address would then fall on the whole office. Werkzeug's
    ProxyFix takes the address the proxy appended; a request from anywhere else keeps its own
    address whatever headers it sends.
    """

    def __init__(self, app: Any, proxies: frozenset[str]) -> None:
        self.app, self.proxies = app, proxies
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REMOTE_ADDR") in self.proxies:
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


class SpoolingRequest(Request):
    """Uploads wait in the blob store's tmp/ folder, not in $TMPDIR.

    Werkzeug spools a file part past 500 kB to the system's temporary folder: a few 200 MB
    scans at once could fill a small /tmp while the instance's own disk, which the disk checks
    watch and where the original goes next, has room.
    """

    parameter_storage_class = BoundedParams  # .get(..., type=int): only numbers that fit

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> Any:
        folder = current_app.extensions["huiyin"].blobs.tmp_dir
        return tempfile.SpooledTemporaryFile(max_size=500 << 10, mode="rb+", dir=folder)


class _SessionInterface(SecureCookieSessionInterface):
    """No cookie session on the JSON API: it reads bearer tokens only, so a browser's session
    cookie neither signs it in nor (through Flask-Login's session protection) locks it out."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/") and request.path != "/api/v1/docs":
            return self.null_session_class()
        return super().open_session(app, request)


def _secret_key(home: Path) -> str:
    """A per-instance key, made once and kept in the instance folder (never in the code).

    Several web processes start at once: the key is written whole under another name and
    linked into place, so all of them read the one that won (a session made by one process is
    valid in all).
    """
    path = home / "secret_key"
    if not path.exists():
        fd, partial = tempfile.mkstemp(prefix=".secret_key.", dir=home)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            os.link(partial, path)  # fails if another process was first
        except FileExistsError:
            pass
        finally:
            Path(partial).unlink()
    return path.read_text().strip()


def _require_login() -> Any:
    """No page is shown to a stranger unless it is public on purpose."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        return None
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]


def _audit_refusal(response: Response) -> Response:
    """A signed-in user refused (403), or sent a 404 for a record it may not see (or that does
    not exist: the two are not told apart), leaves an audit event: probing is not invisible."""
    if (response.status_code in (403, 404) and request.endpoint not in (None, "static")
            and current_user and current_user.is_authenticated):
        from web.services.letter_view import record_refusal

        record_refusal(current_app.extensions["huiyin"], current_user, str(request.endpoint),
                       response.status_code, dict(request.view_args or {}))
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if current_user and current_user.is_authenticated and request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"  # personal data: keep no copy anywhere
    return response


def _number_too_large(error: Exception) -> Any:
    """The last net behind web.app.integers: a number no column holds is the client's error."""
    logging.getLogger("web.app").warning("refused a number out of range: %s %s",
                                         request.method, request.path)
    return _error_page(BadRequest("数字超出范围"))


def _error_page(error: HTTPException) -> Any:
    """Errors in Chinese, in the site's frame; JSON for the API."""
    code = error.code or 500
    if request.path.startswith("/api/"):
        return {"error": error.description, "status": code}, code
    return render_template("error.html", error=error, message=_error_message(error)), code


# What an error page says when the view gave no reason of its own (Werkzeug's is English).
ERROR_MESSAGES = {
    400: "请求的内容不完整或格式不对，请返回上一页重试。",
    401: "请先登录。",
    403: "您的角色没有查看或办理此项的权限；如需办理，请联系系统管理员。",
    404: "没有找到这个页面，或您无权查看它；请检查地址，或从上方菜单进入。",
    405: "不支持这种操作，请从页面上的按钮进入。",
    409: "此项已被他人修改，请刷新页面查看最新情况后再操作。",
    413: "上传的文件过大。",
    429: "操作过于频繁，请稍后再试。",
}


SERVER_ERROR = "系统出错了，请稍后再试；如一再出现，请联系系统管理员。"


def _error_message(error: HTTPException) -> str:
    """The view's own (Chinese) reason, or a Chinese one in place of Werkzeug's default."""
    own = error.description
    if own and own != type(error).description:
        return own
    return ERROR_MESSAGES.get(error.code or 500, SERVER_ERROR)
