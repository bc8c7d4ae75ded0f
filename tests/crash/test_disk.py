"""A full disk and a read-only instance folder: a clear error, nothing half-written, and the
same ingest completes once there is room (or the folder is writable) again.

We run as root here and in CI, where chmod stops nothing, so the instance lives on a small
tmpfs mounted for the test: filled up for "disk full", remounted read-only for "read-only"
(root gets EROFS like anyone). Where mounting is not allowed the tests skip and say so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.crash.killing import check, huiyin
from tests.web.conftest import LETTERS, draw

pytestmark = pytest.mark.slow

DISK_MB = 24


@contextmanager
def small_disk(path: Path, size_mb: int = DISK_MB) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` at ``path`` for the test's length (skip when not permitted)."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root and mount(8) to give the instance a small file system of its "
                    "own (chmod does not stop root)")
    path.mkdir(parents=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755",
                           "huiyin-test", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}): the container lacks "
                    "CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def _ingest(home: Path, scan: Path) -> tuple[int, dict[str, object], str]:
    done = huiyin(home, "ingest", "--json", str(scan))
    results = json.loads(done.stdout)["results"] if done.stdout.strip() else [{}]
    return done.returncode, results[0], done.stderr


def test_disk_full_refuses_the_scan_cleanly_and_the_rerun_completes(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        home = disk / "instance"
        assert huiyin(home, "init").returncode == 0
        scans = tmp_path / "scans"
        scans.mkdir()
        first = draw(scans, *LETTERS[0], fmt="png", seed=41)
        big = draw(scans, *LETTERS[1], fmt="tiff", seed=42)
        assert _ingest(home, first)[0] == 0
        blobs_before = sorted(p.name for p in (home / "blobs").rglob("*") if p.is_file())
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler = disk / "filler"
        with filler.open("wb") as out:  # leave less room than the big scan needs
            out.truncate(0)
            out.write(b"\0" * max(0, free - big.stat().st_size // 2))
        status, result, stderr = _ingest(home, big)
        assert status == 1
        assert "disk is full" in str(result["error"]), result
        assert "Traceback" not in stderr, stderr[-2000:]
        assert result["letter_id"] is None and not result.get("kept")
        after = sorted(p.name for p in (home / "blobs").rglob("*") if p.is_file())
        assert after == blobs_before  # no partial blob, no temporary file left
        report = check(home)
        assert report["clean"] and report["letters"] == 1, report

        filler.unlink()
        status, result, stderr = _ingest(home, big)
        assert status == 0 and result["letter_id"] and result["chars"], (result, stderr)
        report = check(home)
        assert report["clean"] and report["letters"] == 2, report


def test_read_only_instance_says_so_and_changes_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        home = disk / "instance"
        assert huiyin(home, "init").returncode == 0
        scans = tmp_path / "scans"
        scans.mkdir()
        assert _ingest(home, draw(scans, *LETTERS[0], fmt="png", seed=51))[0] == 0
        second = draw(scans, *LETTERS[2], fmt="jpg", seed=52)
        listing = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
        _remount(disk, "ro")
        try:
            status, result, stderr = _ingest(home, second)
            assert status == 1
            said = f"{result.get('error')} {stderr}"
            assert "read-only" in said, said
            assert "Traceback" not in stderr, stderr[-2000:]
            # the records can still be read; the index engine may refuse to open without
            # its lock file, but says so in one line
            report = huiyin(home, "check", "--json")
            assert "Traceback" not in report.stderr, report.stderr[-2000:]
            if report.returncode == 0:
                assert json.loads(report.stdout)["letters"] == 1
        finally:
            _remount(disk, "rw")
        assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == listing
        status, result, stderr = _ingest(home, second)
        assert status == 0 and result["letter_id"], (result, stderr)
        report = check(home)
        assert report["ok"] and report["letters"] == 2, report
