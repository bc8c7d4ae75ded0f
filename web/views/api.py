"""The JSON API (being built): the same operations and permissions as the pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
def openapi() -> dict[str, object]:
    """The API's OpenAPI description."""
    return {"openapi": "3.1.0", "info": {"title": "Huiyin", "version": "1"}, "paths": {}}
