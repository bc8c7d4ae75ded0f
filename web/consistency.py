"""Do the database, the blob store and the index agree? Reported, and repaired on request."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Letter, Reply
from web.instance import Instance


@dataclass
class CheckReport:
    """Each list names what disagrees; an empty report means the instance is consistent."""

    letters: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    unfinished_letters: list[int] = field(default_factory=list)
    not_indexed: list[int] = field(default_factory=list)
    orphan_index_entries: list[int] = field(default_factory=list)
    temporary_files: int = 0

    @property
    def ok(self) -> bool:
        return not any((self.missing_blobs, self.orphan_blobs, self.unfinished_letters,
                        self.not_indexed, self.orphan_index_entries, self.temporary_files))

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, **asdict(self)}


def referenced_blobs(session: Session) -> set[str]:
    """Every original and reply file the records name: what the blob store must hold."""
    found = set(session.scalars(select(Letter.source_sha256)))
    for column in (Reply.docx_sha256, Reply.pdf_sha256):
        found |= {d for d in session.scalars(select(column)) if d}
    return found


def check(instance: Instance) -> CheckReport:
    """Compare the three stores; nothing is changed."""
    with instance.db.session() as session:
        rows = session.execute(select(Letter.id, Letter.source_sha256, Letter.ingest_state)).all()
        known = referenced_blobs(session)
    reply_files = known - {sha for _, sha, _ in rows}
    stored = set(instance.blobs.digests())
    indexed = instance.index.letter_ids()
    searchable = {letter_id for letter_id, _, state in rows if state == "indexed"}
    return CheckReport(
        letters=len(rows),
        missing_blobs=sorted(
            sha for letter_id, sha, state in rows if state != "registered" and sha not in stored
        ) + sorted(reply_files - stored),
        orphan_blobs=sorted(stored - known),
        unfinished_letters=[i for i, _, state in rows if state in ("registered", "stored", "read")],
        not_indexed=sorted(searchable - indexed),
        orphan_index_entries=sorted(indexed - {letter_id for letter_id, _, _ in rows}),
        temporary_files=sum(1 for _ in (instance.blobs.root / "tmp").glob("*.part")),
    )
