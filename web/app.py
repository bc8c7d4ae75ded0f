"""The Flask application factory: the web face of one instance."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response

from web.instance import Instance, default_home


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for the instance at config["HUIYIN_HOME"] (default: --home's default)."""
    app = Flask(__name__)
    app.config.from_mapping(HUIYIN_HOME=str(default_home()), MAX_CONTENT_LENGTH=200 << 20)
    if config:
        app.config.from_mapping(config)
    instance = Instance(Path(app.config["HUIYIN_HOME"]))
    instance.check_ready()
    app.config.setdefault("SECRET_KEY", _secret_key(instance.home))
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.extensions["huiyin"] = instance

    from web.views import letters, verify

    app.register_blueprint(letters.bp)
    app.register_blueprint(verify.bp)
    app.after_request(_security_headers)
    return app


def _secret_key(home: Path) -> str:
    """A per-instance key, made once and kept in the instance folder (never in the code)."""
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
