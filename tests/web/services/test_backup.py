"""Backup while the office works, restore into an empty folder: same records, same search."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.web.conftest import run, run_json
from web.services.instance import Instance
from web.services.registration import register_written

pytestmark = pytest.mark.slow


def _register(home: Path, n: int) -> None:
    """Phone calls written down by a clerk (no OCR: the backup is what is tested)."""
    with Instance(home) as instance:
        for i in range(n):
            register_written(instance, channel="phone", name=f"来电人{i}", phone=None,
                             id_number=None, township="石桥镇", received_on=instance.today(),
                             text=f"第{i}号来电：石桥镇枣树营村村民反映征地补偿款没有发放。",
                             actor="test")


def test_backup_while_writing_then_restore(tmp_path: Path) -> None:
    home, copy, restored = tmp_path / "live", tmp_path / "backup", tmp_path / "restored"
    assert run(home, "init").exit_code == 0
    _register(home, 5)
    writer = threading.Thread(target=_register, args=(home, 20))
    writer.start()
    made = run_json(home, "backup", str(copy))
    writer.join()
    manifest = json.loads((copy / "manifest.json").read_text())
    assert made["rows"]["letter"] >= 5 and manifest["rows"] == made["rows"]
    assert any(name.startswith("signing/") for name in manifest["files"])

    back = run_json(restored, "restore", str(copy))
    assert back["check"]["ok"], back["check"]
    assert back["rows"]["letter"] == back["indexed"] == made["rows"]["letter"]
    found = run_json(restored, "search", "枣树营")["total"]
    assert found == made["rows"]["letter"]
    assert run(restored, "check").exit_code == 0


def test_a_damaged_backup_or_a_used_folder_is_refused(tmp_path: Path) -> None:
    home, copy = tmp_path / "live", tmp_path / "backup"
    assert run(home, "init").exit_code == 0
    _register(home, 1)
    run_json(home, "backup", str(copy))
    again = run(home, "backup", str(copy))
    assert again.exit_code == 1 and "not an empty folder" in again.stderr
    into_used = run(home, "restore", str(copy))
    assert into_used.exit_code == 1 and "not an empty folder" in into_used.stderr
    database = copy / "huiyin.db"
    data = bytearray(database.read_bytes())
    data[-100] ^= 0xFF
    database.write_bytes(bytes(data))
    damaged = run(tmp_path / "new", "restore", str(copy))
    assert damaged.exit_code == 1 and "does not match its manifest hash" in damaged.stderr
    assert not (tmp_path / "new" / "huiyin.db").exists()


def test_originals_in_a_blob_dir_of_their_own_are_backed_up_and_restored(tmp_path: Path) -> None:
    """blob_dir (a folder every worker mounts) holds the originals; backup and restore follow."""
    from records import intake

    home, copy, restored = tmp_path / "live", tmp_path / "backup", tmp_path / "restored"
    home.mkdir()
    (home / "config.toml").write_text('blob_dir = "originals"\n', encoding="utf-8")
    assert run(home, "init").exit_code == 0
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10)
    with Instance(home) as instance:
        sha = instance.blobs.put(scan)
        assert instance.blobs.path(sha).is_relative_to(home / "originals")
        with instance.db.session() as session:
            intake.register_letter(session, sha256=sha, source_name="scan.png",
                                   media_type="image/png", size_bytes=scan.stat().st_size,
                                   received_on=instance.today(), actor="test")
    assert not (home / "blobs").exists()
    run_json(home, "backup", str(copy))
    back = run_json(restored, "restore", str(copy))
    # registered, not yet read (no OCR here): only the originals are checked
    assert back["check"]["missing_blobs"] == back["check"]["orphan_blobs"] == []
    with Instance(restored) as instance:
        assert instance.blobs.path(sha).is_relative_to(restored / "originals")
        assert instance.blobs.verify(sha)
