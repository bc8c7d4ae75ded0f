"""Files sent to the browser or an API client: one response for a reply's file, both doors."""

from __future__ import annotations

import io

from flask import Response, abort, send_file

from web.app.auth import user
from web.app.views import instance
from web.services import letter_view


def reply_file_response(reply_id: int, kind: str) -> Response:
    """A reply's .docx, PDF or signed PDF as a download (404 when not the user's to see)."""
    try:
        data, name, mimetype = letter_view.reply_file(instance(), user(), reply_id, kind)
    except letter_view.LetterNotFound:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=name, max_age=0)
