"""扫描登记: drop many scans on the page; each is stored, read by the worker, and indexed.

The browser sends one file per request as the raw request body (its name, URL-encoded, in the
X-File-Name header), so the upload streams straight into a temporary file in the instance
folder; the page then polls `progress` for every letter until it is indexed or has failed.
"""

from __future__ import annotations

from typing import Any, BinaryIO, cast
from urllib.parse import unquote

from flask import Blueprint, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web import intake as intake_files
from web.auth import requires, user
from web.views import instance

bp = Blueprint("intake", __name__, url_prefix="/intake")


@bp.get("/")
@requires("intake")
def index() -> str:
    """The drop zone, and what the watched folder has taken lately."""
    return render_template("intake/index.html",
                           folder=intake_files.folder_listing(instance()),
                           max_mb=intake_files.MAX_BYTES >> 20)


@bp.post("/upload")
@requires("intake")
def upload() -> ResponseReturnValue:
    """One file as the request body: registered, stored and queued, or refused with a reason."""
    name = unquote(request.headers.get("X-File-Name", ""))
    received = intake_files.receive(instance(), name, cast(BinaryIO, request.stream),
                                    actor=user().username, declared_size=request.content_length)
    document = _with_links(received.as_dict())
    return jsonify(document), 422 if received.error else 200


@bp.get("/progress")
@requires("intake")
def progress() -> ResponseReturnValue:
    """Where each letter (?ids=3,4,5) is: stored, OCR page n of m, indexed, or its error."""
    raw = request.args.get("ids", "")
    ids = [int(part) for part in raw.split(",") if part.strip().isdigit()][:200]
    found = [_with_links(item) for item in intake_files.progress(instance(), ids)]
    return jsonify({"letters": found})


def _with_links(item: dict[str, Any]) -> dict[str, Any]:
    letter_id = item.get("letter_id") or item.get("duplicate_of")
    if letter_id:
        item["review_url"] = url_for("review.letter", letter_id=letter_id)
        item["letter_url"] = url_for("letters.show", letter_id=letter_id)
    return item
