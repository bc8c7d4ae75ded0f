"""Files sent to the browser or an API client: a reply's file (both doors), Excel exports."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask import Response, abort, send_file

from web.app.auth import user
from web.app.views import instance
from web.services import exports, letter_view


def reply_file_response(reply_id: int, kind: str) -> Response:
    """A reply's .docx, PDF or signed PDF as a download (404 when not the user's to see)."""
    try:
        data, name, mimetype = letter_view.reply_file(instance(), user(), reply_id, kind)
    except letter_view.LetterNotFound:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name, max_age=0)


def xlsx_response(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                  file_name: str) -> Response:
    """A list as an Excel workbook to download (413 when it is too large to build)."""
    try:
        data = exports.workbook(title, headers, rows)
    except exports.ExportTooLarge as e:
        abort(413, description=str(e))
    return send_file(io.BytesIO(data), mimetype=exports.XLSX, as_attachment=True,
                     download_name=file_name)
