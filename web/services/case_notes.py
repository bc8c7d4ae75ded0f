"""办理情况: progress notes and attached files (a survey, a photo, a signed receipt) on a case.

Who may add them is who acts on cases (clerks, handlers, leaders); whom they are shown to is
who may see the case (a handler: its unit's cases only): the same rule as the case itself,
``may_see_case``. Every note, upload and download is in the audit log. Files go to the blob
store by their SHA-256, like the scans.
"""

from __future__ import annotations

import datetime as dt
import io
import mimetypes
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Case, CaseNote, audit
from web.services.access import SignedIn, may_see_case
from web.services.errors import ServiceError
from web.services.instance import Instance

MAX_TEXT = 4000
MAX_FILE = 50 << 20  # a phone's photos and a scanned survey fit; a video does not
# What a handler attaches: documents and photos; nothing a browser would run.
ALLOWED = {".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".doc", ".docx", ".xls",
           ".xlsx", ".txt", ".heic"}


class NoteError(ServiceError):
    """A note or file the case cannot take; the message says why."""


class NotFound(ServiceError):
    """No such case or note for this user (the same answer whether absent or out of scope)."""


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    file_name: str | None
    size: int | None
    by: str
    at: dt.datetime


def notes_of(instance: Instance, user: SignedIn, case_id: int) -> list[Note]:
    """The case's notes and files, newest first."""
    with instance.db.session() as session:
        _case(session, user, case_id)
        rows = session.scalars(select(CaseNote).where(CaseNote.case_id == case_id)
                               .order_by(CaseNote.id.desc()))
        return [Note(n.id, n.text, n.file_name, n.size, n.by, n.at) for n in rows]


def add_note(instance: Instance, user: SignedIn, case_id: int, text: str, *,
             file_name: str | None = None, stream: IO[bytes] | None = None) -> int:
    """Record a note, a file, or both; audited. Returns the note's id."""
    if not user.can("act_on_cases"):
        raise NoteError("您的角色不能记录办理情况")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise NoteError(f"办理情况最多 {MAX_TEXT} 个字，现在有 {len(text)} 个字")
    name = PurePath((file_name or "").replace("\\", "/")).name.strip()[:255] if stream else ""
    if not text and not name:
        raise NoteError("请填写办理情况，或选择要上传的附件")
    sha256 = media_type = size = None
    if stream is not None and name:
        if PurePath(name).suffix.lower() not in ALLOWED:
            raise NoteError("附件只能是 PDF、图片、Word、Excel 或文本文件")
        data = stream.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise NoteError(f"附件不能超过 {MAX_FILE >> 20} MB")
        if not data:
            raise NoteError("附件是空文件")
        sha256 = instance.blobs.put_stream(io.BytesIO(data))
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        size = len(data)
    with instance.db.session() as session:
        _case(session, user, case_id)
        note = CaseNote(case_id=case_id, text=text, file_name=name or None, file_sha256=sha256,
                        media_type=media_type, size=size, by=user.username)
        session.add(note)
        session.flush()
        if text:
            audit.record(session, user.username, "case-note", "case", case_id, note_id=note.id)
        if name:
            audit.record(session, user.username, "case-attachment", "case", case_id,
                         note_id=note.id, file=name, sha256=sha256, size=size)
        return note.id


def attachment(instance: Instance, user: SignedIn, case_id: int,
               note_id: int) -> tuple[str, str, str]:
    """(blob path, file name, media type) of a note's file; the download is audited."""
    with instance.db.session() as session:
        _case(session, user, case_id)
        note = session.get(CaseNote, note_id)
        if note is None or note.case_id != case_id or not note.file_sha256:
            raise NotFound("没有这个附件")
        audit.record(session, user.username, "download", "case", case_id, note_id=note.id)
        return (str(instance.blobs.path(note.file_sha256)), note.file_name or "附件",
                note.media_type or "application/octet-stream")


def _case(session: Session, user: SignedIn, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not may_see_case(user, case):
        raise NotFound("没有这个信访事项")
    return case
