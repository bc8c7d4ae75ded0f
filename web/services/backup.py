"""Backup and restore of an instance: a consistent copy taken while the office works.

The database is copied with SQLite's online backup API (one consistent snapshot, writers go
on); the originals are immutable and written before any row names them, so copying them after
the snapshot finds every one it needs. The manifest lists each file with its SHA-256; restore
refuses a copy that does not match it. The search index is derived: restore rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.orm import Session

from records import sha256_file
from records.models import Base
from web.services.consistency import referenced_blobs
from web.services.errors import ServiceError
from web.services.instance import Instance

MANIFEST = "manifest.json"
DATABASE = "huiyin.db"
# Besides the database and the originals: what the office configured and what it issued.
BLOBS = "blobs"  # the originals' folder inside a backup, wherever blob_dir put them
KEPT = ("config.toml", "holidays.csv", "secret_key", "signing", "replies", "templates")


class BackupError(ServiceError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass
class Manifest:
    """What a backup holds: every file with its hash, and the row count of every table."""

    created_at: str
    source: str
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"created_at": self.created_at, "source": self.source, "files": self.files,
                "rows": self.rows}


def backup(instance: Instance, dest: Path) -> Manifest:
    """Copy the instance into the empty (or new) folder `dest`; return the manifest written."""
    if not instance.database_url.startswith("sqlite:///"):
        raise BackupError("this instance's records are in PostgreSQL: back them up with pg_dump "
                          "(see docs/deployment.md); `huiyin backup` copies the embedded SQLite")
    _empty_folder(dest)
    manifest = Manifest(created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        source=str(instance.home))
    source_db = instance.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(source_db) as src, sqlite3.connect(dest / DATABASE) as out:
        src.backup(out)
    manifest.rows = _row_counts(dest / DATABASE)
    _add(manifest, dest, DATABASE)
    for sha in sorted(_referenced(dest / DATABASE)):
        original = instance.blobs.path(sha)  # blob_dir may be a shared folder elsewhere
        relative = Path(BLOBS) / original.relative_to(instance.blobs.root)
        _copy(original, dest / relative)
        _add(manifest, dest, str(relative), expected=sha)
    for name in KEPT:
        for path in _files(instance.home / name):
            relative = path.relative_to(instance.home)
            _copy(path, dest / relative)
            _add(manifest, dest, str(relative))
    (dest / MANIFEST).write_text(json.dumps(manifest.as_dict(), ensure_ascii=False, indent=1))
    return manifest


def verify(src: Path) -> Manifest:
    """Check a backup against its manifest; raise BackupError naming the first bad file."""
    try:
        data = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise BackupError(f"{src} is not a Huiyin backup (no readable {MANIFEST}: {e})") from e
    manifest = Manifest(created_at=data["created_at"], source=data["source"],
                        files=data["files"], rows=data["rows"])
    for relative, facts in manifest.files.items():
        path = src / relative
        if not path.is_file():
            raise BackupError(f"the backup lacks {relative}")
        if sha256_file(path) != facts["sha256"]:
            raise BackupError(f"{relative} in the backup does not match its manifest hash")
    if _row_counts(src / DATABASE) != manifest.rows:
        raise BackupError("the backup's database does not hold the rows its manifest counts")
    return manifest


def restore(src: Path, home: Path) -> Manifest:
    """Make a new instance at `home` (empty or new) from a verified backup."""
    manifest = verify(src)
    _empty_folder(home)
    originals = [r for r in manifest.files if Path(r).parts[0] == BLOBS]
    for relative in manifest.files:
        if relative not in originals:
            _copy(src / relative, home / relative)
    with Instance(home) as restored:  # its config.toml may name a blob_dir of its own
        blobs = restored.blobs.root
    for relative in originals:
        _copy(src / relative, blobs.joinpath(*Path(relative).parts[1:]))
    secret = home / "secret_key"
    if secret.exists():
        secret.chmod(0o600)
    return manifest


def _row_counts(database: Path) -> dict[str, int]:
    with _snapshot(database) as session:
        present = set(inspect(session.connection()).get_table_names())
        return {name: session.scalar(select(func.count()).select_from(table(name))) or 0
                for name in sorted(Base.metadata.tables) if name in present}


def _referenced(database: Path) -> set[str]:
    """The originals the snapshot names (one stored a moment later belongs to the next backup)."""
    with _snapshot(database) as session:
        return referenced_blobs(session)


@contextmanager
def _snapshot(database: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _empty_folder(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} is not an empty folder: give a new or empty one")
    path.mkdir(parents=True, exist_ok=True)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _add(manifest: Manifest, root: Path, relative: str, *, expected: str | None = None) -> None:
    digest = sha256_file(root / relative)
    if expected is not None and digest != expected:
        raise BackupError(f"the original {expected} is damaged in the blob store")
    manifest.files[relative] = {"sha256": digest, "bytes": (root / relative).stat().st_size}
