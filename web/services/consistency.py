"""Do the database, the blob store and the index agree? Reported, and garbage removed on request.

One definition of "consistent", used by `huiyin check`, backups and the crash tests:

* every original and reply file the records name is in the blob store (``missing_blobs``);
* no letter is stuck half-way through its ingest (``unfinished_letters``);
* the index holds exactly the searchable letters (``web.services.indexing.check_index``: the same
rule
  as `huiyin reindex --check`), no interrupted reindex waits (``reindex_pending``) and no index
  written by an older version waits for its upgrade (``upgrade_pending``).

Files nothing refers to — blobs written by a process killed before its record was committed,
temporary files of a killed writer — are garbage, not inconsistency: no record is wrong and
nothing is lost. They are reported (``orphan_blobs``, ``temporary_files``) and ``repair``
removes them; they do not make ``ok`` false.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Letter, Reply
from web.services.indexing import UPGRADE_COMMAND, PendingUpgrade, check_index
from web.services.instance import Instance

UNFINISHED = ("registered", "stored", "read")  # ingest states a rerun (or the worker) completes

# What mends each kind of problem: shown by `huiyin check` and read by the crash tests.
REPAIRS = {
    "missing_blobs": "ingest the original file again (the record names a file the store lost)",
    "unfinished_letters": "run the same `huiyin ingest` again (or let the worker finish them)",
    "not_indexed": "`huiyin reindex --check --repair` (or rerun the interrupted ingest)",
    "orphan_index_entries": "`huiyin reindex --check --repair`",
    "reindex_pending": "`huiyin reindex` resumes the interrupted rebuild",
    "upgrade_pending": f"`{UPGRADE_COMMAND}` brings the index up to this version's content",
}


@dataclass
class CheckReport:
    """Each list names what disagrees; ``ok`` when no record is wrong (garbage aside)."""

    letters: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    unfinished_letters: list[int] = field(default_factory=list)
    not_indexed: list[int] = field(default_factory=list)
    orphan_index_entries: list[int] = field(default_factory=list)
    reindex_pending: bool = False
    upgrade_pending: PendingUpgrade | None = None
    orphan_blobs: list[str] = field(default_factory=list)  # garbage: referenced by nothing
    temporary_files: int = 0  # garbage: left by a writer that was killed

    @property
    def problems(self) -> list[str]:
        """The kinds of inconsistency found (keys of REPAIRS)."""
        return [key for key in REPAIRS if getattr(self, key)]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def clean(self) -> bool:
        """Consistent and without garbage."""
        return self.ok and not self.orphan_blobs and not self.temporary_files

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "clean": self.clean, **asdict(self), "problems": self.problems,
                "repairs": {key: REPAIRS[key] for key in self.problems}}


def referenced_blobs(session: Session) -> set[str]:
    """Every original and reply file the records name: what the blob store must hold."""
    found = set(session.scalars(select(Letter.source_sha256)))
    for column in (Reply.docx_sha256, Reply.pdf_sha256, Reply.signed_pdf_sha256):
        found |= {d for d in session.scalars(select(column)) if d}
    return found


def check(instance: Instance) -> CheckReport:
    """Compare the three stores; nothing is changed."""
    stored = set(instance.blobs.digests())  # listed first: a blob stored meanwhile is no orphan
    with instance.db.session() as session:
        rows = session.execute(select(Letter.id, Letter.source_sha256, Letter.ingest_state)).all()
        known = referenced_blobs(session)
    reply_files = known - {sha for _, sha, _ in rows}
    drift = check_index(instance)
    return CheckReport(
        letters=len(rows),
        missing_blobs=sorted(
            sha for _, sha, state in rows if state != "registered" and sha not in stored
        ) + sorted(reply_files - stored),
        unfinished_letters=[i for i, _, state in rows if state in UNFINISHED],
        not_indexed=drift.missing,
        orphan_index_entries=drift.orphans,
        reindex_pending=drift.reindex_pending,
        upgrade_pending=drift.upgrade_pending,
        orphan_blobs=sorted(stored - known),
        temporary_files=sum(1 for _ in (instance.blobs.root / "tmp").glob("*.part")),
    )


def remove_garbage(instance: Instance, *, min_age_s: float = 3600.0) -> dict[str, int]:
    """Delete orphan blobs older than ``min_age_s`` and dead writers' temporary files.

    The age guard protects a blob stored by a process that has not committed its record yet
    (a reply being rendered); a temporary file is removed only when no live writer holds it.
    """
    now = time.time()
    stored = list(instance.blobs.digests())
    with instance.db.session() as session:
        known = referenced_blobs(session)
    removed = 0
    for sha in stored:
        path = instance.blobs.path(sha)
        try:
            old = now - path.stat().st_mtime >= min_age_s
        except FileNotFoundError:
            continue
        if sha not in known and old:
            instance.blobs.delete(sha)
            removed += 1
    swept = instance.blobs.sweep_temporary(min_age_s=min(min_age_s, 60.0))
    return {"orphan_blobs": removed, "temporary_files": swept}
