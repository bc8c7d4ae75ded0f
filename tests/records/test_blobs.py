"""The blob store: content addressed, atomic, immutable, and tidy after a crash."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path

import pytest

from records import BlobError, BlobStore, sha256_file


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_put_stores_under_the_sha256(store: BlobStore, tmp_path: Path) -> None:
    source = _file(tmp_path, "scan.jpg", b"\xff\xd8 a scan")
    digest = store.put(source)
    assert digest == hashlib.sha256(b"\xff\xd8 a scan").hexdigest()
    assert store.path(digest).read_bytes() == b"\xff\xd8 a scan"
    assert store.path(digest).relative_to(store.root).parts[:2] == (digest[:2], digest[2:4])


def test_same_content_is_stored_once(store: BlobStore, tmp_path: Path) -> None:
    first = store.put(_file(tmp_path, "a.pdf", b"%PDF same"))
    second = store.put(_file(tmp_path, "b.pdf", b"%PDF same"))
    assert first == second
    assert list(store.digests()) == [first]


def test_stored_blobs_are_read_only(store: BlobStore, tmp_path: Path) -> None:
    digest = store.put(_file(tmp_path, "a.png", b"\x89PNG"))
    assert not store.path(digest).stat().st_mode & 0o222


def test_expected_digest_mismatch_is_refused(store: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(BlobError, match="changed while it was stored"):
        store.put(_file(tmp_path, "a.png", b"one"), "0" * 64)
    assert list(store.digests()) == []
    assert list((store.root / "tmp").iterdir()) == []


def test_verify_notices_a_changed_byte(store: BlobStore, tmp_path: Path) -> None:
    digest = store.put(_file(tmp_path, "a.tiff", b"II*\x00 pages"))
    assert store.verify(digest)
    path = store.path(digest)
    path.chmod(0o644)
    path.write_bytes(b"II*\x00 pagez")
    assert not store.verify(digest)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "g" * 64, "a" * 63])
def test_paths_only_for_digests(store: BlobStore, bad: str) -> None:
    with pytest.raises(BlobError, match="not a SHA-256"):
        store.path(bad)


def test_missing_blob_is_a_clear_error(store: BlobStore) -> None:
    with pytest.raises(BlobError, match="missing"):
        store.open("a" * 64)


def test_sweep_removes_only_abandoned_temporaries(store: BlobStore) -> None:
    abandoned = store.root / "tmp" / "dead.part"
    abandoned.write_bytes(b"half a scan")
    live = store.root / "tmp" / "live.part"
    live.write_bytes(b"being written")
    old = time.time() - 3600
    os.utime(abandoned, (old, old))
    os.utime(live, (old, old))
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert store.sweep_temporary() == 1
    finally:
        os.close(fd)
    assert not abandoned.exists()
    assert live.exists()


def test_sweep_spares_a_writer_that_has_only_just_started(store: BlobStore) -> None:
    fresh = store.root / "tmp" / "fresh.part"
    fresh.write_bytes(b"")
    assert store.sweep_temporary() == 0
    assert fresh.exists()


def test_sha256_file_reads_large_files_in_chunks(tmp_path: Path) -> None:
    content = os.urandom(3 << 20)
    path = _file(tmp_path, "big.pdf", content)
    assert sha256_file(path) == hashlib.sha256(content).hexdigest()
