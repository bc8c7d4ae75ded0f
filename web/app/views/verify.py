"""Public verification of a reply: the page its QR code opens, and a check of an uploaded PDF.

Public on purpose: it shows only whether a document is valid, its number, date and issuing
office, never the matter, and the recipient only masked (韩*菊).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from web.app.views import instance
from web.services.replies import public_status, verify_document

bp = Blueprint("verify", __name__, url_prefix="/verify")
MAX_PDF = 20 << 20


@bp.get("/<code>")
def by_code(code: str) -> str:
    """The page a reply's QR code links to."""
    status = public_status(instance(), code)
    if status is None:
        abort(404, description="没有找到与此验证码对应的文书：请核对二维码或链接是否完整；"
                               "仍有疑问，请向发文机关咨询。")
    return render_template("verify/status.html", status=status)


@bp.route("/", methods=["GET", "POST"])
def upload() -> str:
    """Check an uploaded PDF: intact, signed by this office, replaced or not."""
    result, error = None, None
    if request.method == "POST":
        file = request.files.get("pdf")
        data = file.read(MAX_PDF + 1) if file else b""
        if not data:
            error = "请选择要验证的PDF文件。"
        elif len(data) > MAX_PDF:
            error = "文件过大。"
        else:
            full = verify_document(instance(), data)
            result = {"valid": full["valid"], "superseded": full["superseded_by"] is not None,
                      "doc_number": full["doc_number"], "issued_on": full["issued_on"],
                      "office": full["office"] if full["issued_by_us"] else None}
    return render_template("verify/upload.html", result=result, error=error)
