"""The blob store: original scans kept immutable under their SHA-256, written atomically."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobError(Exception):
    """A blob is missing, damaged, or could not be written."""


class StoreUnwritable(OSError):
    """The blob store's disk is full or read-only: nothing was stored, nothing half-written.

    An OSError (its errno kept) whose ``strerror`` says what happened and what to do.
    """


_WHY = {errno.ENOSPC: "the disk is full: free some space, then try again",
        errno.EDQUOT: "the disk quota is used up: free some space, then try again",
        errno.EROFS: "the instance folder is on a read-only file system",
        errno.EACCES: "this user may not write there",
        errno.EPERM: "this user may not write there",
        errno.EFBIG: "the file is larger than this process may write"}


def sha256_file(path: Path) -> str:
    """The content address of a file, read in chunks so a 500-page PDF does not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class BlobStore:
    """Files named by their SHA-256 under `root/ab/cd/abcd...`; never modified once written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    @property
    def tmp_dir(self) -> Path:
        """Where files being received wait: on the store's own disk, never in $TMPDIR."""
        return self._tmp

    def path(self, sha256: str) -> Path:
        """Where the blob with this digest lives (it may not exist)."""
        if not _SHA256.fullmatch(sha256):
            raise BlobError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, source: Path, sha256: str | None = None) -> str:
        """Store a copy of `source`; storing the same content twice is a no-op."""
        with source.open("rb") as f:
            return self.put_stream(f, expected=sha256)

    def put_stream(self, stream: BinaryIO, *, expected: str | None = None) -> str:
        """Store a stream: temporary file, fsync, rename — a crash leaves no partial blob."""
        try:
            return self._put_stream(stream, expected)
        except OSError as e:
            if e.errno not in _WHY:
                raise
            raise StoreUnwritable(e.errno, f"could not store the original in {self.root}: "
                                           f"{e.strerror} ({_WHY[e.errno]})") from e

    def _put_stream(self, stream: BinaryIO, expected: str | None) -> str:
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, suffix=".part")
        tmp = Path(tmp_name)
        try:
            # The lock tells sweep_temporary() that a live writer owns this file.
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(fd, "wb", closefd=False) as out:
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            if expected is not None and sha256 != expected:
                raise BlobError(f"content changed while it was stored: {expected} became {sha256}")
            target = self.path(sha256)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp.chmod(0o444)
                tmp.replace(target)
                _fsync_dir(target.parent)
            else:  # stored before, perhaps as garbage: fresh again, so no sweep takes it now
                os.utime(target)
            return sha256
        finally:
            os.close(fd)
            tmp.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        """Read a blob; a missing one is a BlobError, not a bare FileNotFoundError."""
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as e:
            raise BlobError(f"original {sha256[:12]}… is missing from the blob store") from e

    def verify(self, sha256: str) -> bool:
        """True when the stored bytes still hash to their name."""
        return self.exists(sha256) and sha256_file(self.path(sha256)) == sha256

    def digests(self) -> Iterator[str]:
        """Every stored blob (for consistency checks and backups)."""
        for path in self.root.glob("??/??/*"):
            if _SHA256.fullmatch(path.name):
                yield path.name

    def delete(self, sha256: str) -> None:
        """Remove a blob no record refers to (only the consistency check calls this)."""
        self.path(sha256).unlink(missing_ok=True)

    @contextmanager
    def hold(self, sha256: str) -> Iterator[None]:
        """Work on this original alone: other processes holding it wait (reading its pages).

        An advisory lock (flock) on one of 4096 lock files in locks/ (two originals may share
        one and then simply take turns): the kernel releases it when its holder dies, even by
        SIGKILL, so a crash never leaves it taken. The files stay: they are not temporary (and
        removing one a process has open would let a second process lock a new file of that name).
        """
        self.path(sha256)  # a digest, not a path someone slipped in
        locks = self.root / "locks"
        locks.mkdir(exist_ok=True)
        fd = os.open(locks / f"{sha256[:3]}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def sweep_temporary(self, *, min_age_s: float = 60.0) -> int:
        """Remove temporary files left by writers that were killed; returns how many."""
        removed = 0
        now = time.time()
        for tmp in self._tmp.glob("*.part"):
            try:
                # The age guard covers the instant between a writer's mkstemp and its flock.
                if now - tmp.stat().st_mtime < min_age_s:
                    continue
                fd = os.open(tmp, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer holds it
            else:
                tmp.unlink(missing_ok=True)
                removed += 1
            finally:
                os.close(fd)
        return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
