"""调解/和解 (§33) beside the case actions: the signed agreement's scan, checked by its content.

The scan is kept like a case note's file (web.services.case_notes): in the blob store by its
SHA-256, listed under the case's 办理情况与附件 and downloaded through the same audited route.
Only a PDF, JPEG or PNG is taken, known by its first bytes whatever its name says.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from sqlalchemy.orm import Session

from records import Case, settlements
from web.services.errors import ServiceError
from web.services.instance import Instance

MAX_FILE = 50 << 20
SIGNATURES = ((b"%PDF-", "application/pdf", ".pdf"), (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
              (b"\x89PNG\r\n\x1a\n", "image/png", ".png"))


class SignedCopyError(ServiceError):
    """The signed copy cannot be kept; the message says why."""


@dataclass(frozen=True)
class SignedCopy:
    """The scan of a signed agreement, checked; `store` keeps it once the record is made."""

    sha256: str
    name: str
    media_type: str
    size: int
    data: bytes

    def store(self, instance: Instance) -> None:
        """Into the blob store under its SHA-256 (after the agreement is accepted, so that a
        refused one leaves no file behind)."""
        instance.blobs.put_stream(io.BytesIO(self.data), expected=self.sha256)


def read_signed_copy(file_name: str, stream: IO[bytes]) -> SignedCopy:
    """The scan, if it is a PDF, JPEG or PNG by content (its name is only a name)."""
    data = stream.read(MAX_FILE + 1)
    if not data:
        raise SignedCopyError("请上传双方签字的协议书扫描件（PDF、JPEG 或 PNG）")
    if len(data) > MAX_FILE:
        raise SignedCopyError(f"协议书扫描件不能超过 {MAX_FILE >> 20} MB")
    kind = next(((media, suffix) for magic, media, suffix in SIGNATURES
                 if data.startswith(magic)), None)
    if kind is None:
        raise SignedCopyError("协议书扫描件须为 PDF、JPEG 或 PNG 文件（按文件内容判断，"
                              "不看扩展名）")
    media_type, suffix = kind
    name = PurePath((file_name or "").replace("\\", "/")).name.strip()[:200]
    stem = PurePath(name).stem or "协议书"
    return SignedCopy(hashlib.sha256(data).hexdigest(), f"{stem}{suffix}", media_type,
                      len(data), data)


def settlement_dict(session: Session, case: Case) -> dict[str, Any] | None:
    """The agreement that ended the case, for its page and the API; None if none did."""
    item = settlements.settlement_of(session, case)
    if item is None:
        return None
    return {"id": item.id, "kind": item.kind, "document": settlements.DOCUMENTS[item.kind],
            "parties": list(item.parties), "terms": item.terms, "signed_on": item.signed_on,
            "note_id": item.note_id, "by": item.by}
