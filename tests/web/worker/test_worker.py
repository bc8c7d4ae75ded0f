"""The background worker and the watched folder: a good scan ends in done/ and is found, a bad
file ends in failed/ with its reason, a file still being written is left alone, and a task
that raises fails alone while the worker goes on."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy import update as sa_update

from records import Letter, Reply, Task, tasks
from records import intake as records_intake
from records.models import utcnow
from tests.web.conftest import LETTERS, draw
from web.cli import main
from web.services import intake
from web.services.instance import Instance
from web.services.intake import Received, register
from web.services.replies import generate_reply
from web.worker import LEASE, LeaseLost, Worker


def folder(instance: Instance) -> Path:
    path = intake.intake_folder(instance)
    path.mkdir(parents=True, exist_ok=True)
    return path


def worker(instance: Instance) -> Worker:
    return Worker(instance, "test-worker", poll_s=0.0)


def reason(path: Path) -> str:
    return path.with_name(path.name + ".reason.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_good_scan_goes_in_and_to_done(instance: Instance) -> None:
    name, phone, place, matter = LETTERS[2]
    scan = draw(folder(instance), name, phone, place, matter, fmt="png", seed=70)
    counts = worker(instance).drain(settle_s=0)
    assert counts == {"done": 2, "failed": 0}  # the intake-file task, then the ingest task
    assert not scan.exists()
    assert (folder(instance) / "done" / scan.name).is_file()
    assert list((folder(instance) / "failed").iterdir()) == []
    assert list((folder(instance) / "processing").iterdir()) == []
    with instance.db.session() as s:
        [letter] = s.scalars(select(Letter))
        assert (letter.source_name, letter.ingest_state) == (scan.name, "indexed")
    hits = instance.index.search(phone)
    assert [h.letter_id for h in hits.hits] == [letter.id]
    listing = intake.folder_listing(instance)
    assert [(r["name"], r["outcome"]) for r in listing["recent"]] == [(scan.name, "done")]


def test_bad_files_go_to_failed_with_their_reason(instance: Instance) -> None:
    root = folder(instance)
    (root / "note.jpg").write_text("这不是扫描件，是一段文字。", encoding="utf-8")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    empty = root / "empty.pdf"
    empty.write_bytes(b"")
    old = time.time() - 3600  # a 0-byte file is taken only once it has been empty a while
    os.utime(empty, (old, old))
    counts = worker(instance).drain(settle_s=0)
    # refused at once: note.jpg, empty.pdf; broken.pdf is kept as a failed letter when it is
    # registered (web.services.pipeline.admit finds the damage before anything is queued for
    # reading)
    assert counts == {"done": 0, "failed": 3}
    failed = root / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "broken.pdf", "broken.pdf.reason.txt", "empty.pdf", "empty.pdf.reason.txt",
        "note.jpg", "note.jpg.reason.txt"]
    assert "文件是空的" in reason(failed / "empty.pdf")
    assert "扩展名 .jpg" in reason(failed / "note.jpg")
    with instance.db.session() as s:
        [letter] = s.scalars(select(Letter))  # the damaged scan is kept: nothing is lost
        assert (letter.source_name, letter.ingest_state) == ("broken.pdf", "failed")
        assert f"原件已保留，登记号 {letter.reg_no}" in reason(failed / "broken.pdf")
    listing = intake.folder_listing(instance)
    assert {r["name"]: r["outcome"] for r in listing["recent"]} == {
        "empty.pdf": "failed", "note.jpg": "failed", "broken.pdf": "failed"}
    assert all(r["reason"] for r in listing["recent"])
    assert list((root / "processing").iterdir()) == []


def test_a_file_still_growing_is_not_taken(instance: Instance) -> None:
    root = folder(instance)
    growing = root / "scan-0001.pdf"
    growing.write_bytes(b"%PDF-1.4\n")
    (root / ".hidden.pdf").write_bytes(b"%PDF-1.4\n")
    (root / "scan-0002.pdf.part").write_bytes(b"%PDF-1.4\n")
    assert intake.scan_folder(instance) == []  # first sight: its size is not known to be final
    with growing.open("ab") as f:
        f.write(b"1 0 obj\n")  # the scanner writes more
    assert intake.scan_folder(instance) == []
    assert growing.exists()
    [task_id] = intake.scan_folder(instance)  # unchanged since the last poll: taken
    assert not growing.exists()
    with instance.db.session() as s:
        task = s.get(Task, task_id)
        assert task is not None and task.kind == "intake-file"
        assert task.payload["name"] == "scan-0001.pdf"
        assert (root / "processing" / task.payload["file"]).is_file()
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == [
        ".hidden.pdf", "scan-0002.pdf.part"]
    assert intake.scan_folder(instance) == [task_id]  # queued once, however often it is seen


def test_a_task_that_raises_fails_alone_and_the_worker_goes_on(instance: Instance) -> None:
    with instance.db.session() as s:
        broken = tasks.enqueue(s, "ingest", "ingest:999", {"letter_id": 999}).id
        unknown = tasks.enqueue(s, "frobnicate", "frobnicate:1", {}).id
        gone = tasks.enqueue(s, "intake-file", "intake-file:gone", {"file": "gone.pdf",
                                                                    "name": "gone.pdf"}).id
    w = worker(instance)
    assert w.drain(settle_s=0)["failed"] >= 3
    with instance.db.session() as s:
        by_id = {t.id: t for t in s.scalars(select(Task))}
    assert by_id[broken].state == "failed" and by_id[broken].attempts == tasks.MAX_ATTEMPTS
    assert "999" in (by_id[broken].error or "")
    assert by_id[unknown].state == "failed" and "未知" in (by_id[unknown].error or "")
    assert by_id[gone].state == "failed" and "processing" in (by_id[gone].error or "")
    assert w.run_once() is False


def test_run_stops_when_asked(instance: Instance) -> None:
    stop = threading.Event()
    w = Worker(instance, "test-worker", poll_s=0.05)
    thread = threading.Thread(target=w.run, args=(stop,))
    thread.start()
    (folder(instance) / "note.jpg").write_text("文字", encoding="utf-8")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (folder(instance) / "failed" / "note.jpg").exists():
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert (folder(instance) / "failed" / "note.jpg").exists()


def test_worker_once_from_the_command_line(instance: Instance, tmp_path: Path) -> None:
    elsewhere = tmp_path / "scanner-share"
    (instance.home / "config.toml").write_text(f'intake_folder = "{elsewhere}"\n',
                                               encoding="utf-8")
    elsewhere.mkdir()
    (elsewhere / "note.jpg").write_text("文字", encoding="utf-8")
    result = CliRunner().invoke(main, ["--home", str(instance.home), "worker", "--once",
                                       "--poll", "0.1", "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # an input failed: exit status 1
    assert json.loads(result.stdout) == {"done": 0, "failed": 1}
    assert (elsewhere / "failed" / "note.jpg.reason.txt").is_file()
    assert not (instance.home / "intake").exists()


@pytest.mark.slow
def test_serve_runs_a_worker_and_stops_it_on_sigterm(instance: Instance) -> None:
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    huiyin = str(Path(sys.executable).parent / "huiyin")
    server = subprocess.Popen([huiyin, "--home", str(instance.home), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        (folder(instance) / "note.jpg").write_text("文字", encoding="utf-8")
        failed = folder(instance) / "failed" / "note.jpg.reason.txt"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not failed.exists():
            time.sleep(0.1)
        assert failed.exists()  # the worker beside the web server took the folder's file
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    assert "stopped" in stderr


@pytest.mark.slow
def test_index_and_reply_tasks_run_on_the_embedded_queue(instance: Instance,
                                                          tmp_path: Path) -> None:
    name, phone, place, matter = LETTERS[0]
    scan = draw(tmp_path, name, phone, place, matter, fmt="png", seed=71)
    received = register(instance, scan, Received(file=scan.name), actor="clerk1")
    letter_id = received.letter_id
    assert letter_id is not None
    with instance.db.session() as s:
        records_intake.attach_petitioner(s, records_intake.get_letter(s, letter_id), name=name,
                                         actor="test")
        index = tasks.enqueue(s, "index", f"index:{letter_id}", {"letter_id": letter_id}).id
        reply = tasks.enqueue(s, "reply", f"reply:{letter_id}", {
            "letter_id": letter_id, "template": "acknowledgement", "pdf": False}).id
    assert worker(instance).drain(settle_s=0) == {"done": 3, "failed": 0}
    with instance.db.session() as s:
        assert {t.id: t.state for t in s.scalars(select(Task))} == {
            received.task_id: "done", index: "done", reply: "done"}
        [made] = s.scalars(select(Reply))
        assert made.letter_id == letter_id and made.data["queue_task_id"] == reply
        assert made.data["petitioner_name"] == name
    assert [h.letter_id for h in instance.index.search(phone).hits] == [letter_id]


def test_a_reply_task_retried_after_its_reply_was_recorded_records_no_second(
        instance: Instance, tmp_path: Path) -> None:
    name, phone, place, matter = LETTERS[1]
    scan = draw(tmp_path, name, phone, place, matter, fmt="png", seed=72)
    letter_id = register(instance, scan, Received(file=scan.name), actor="clerk1").letter_id
    assert letter_id is not None
    with instance.db.session() as s:
        records_intake.attach_petitioner(s, records_intake.get_letter(s, letter_id), name=name,
                                         actor="test")
        s.execute(sa_update(Task).values(state="done"))  # the ingest is not what is tested
        task_id = tasks.enqueue(s, "reply", f"reply:{letter_id}", {
            "letter_id": letter_id, "template": "acknowledgement", "pdf": False}).id
    # the first attempt's worker recorded the reply, then died before finishing the task
    with instance.db.session() as s:
        assert tasks.claim(s, "dead-worker", utcnow() - LEASE * 2, LEASE) is not None
    first = generate_reply(instance, letter_id, "acknowledgement", out_dir=None, actor="w",
                           data={"queue_task_id": task_id}, pdf=False)
    assert worker(instance).run_once() is True  # attempt 2: finds the reply, records none
    with instance.db.session() as s:
        assert [r.id for r in s.scalars(select(Reply))] == [first.reply_id]
        task = s.get(Task, task_id)
        assert task is not None and (task.state, task.attempts) == ("done", 2)
        assert task.progress["reply_id"] == first.reply_id


def test_a_worker_that_cannot_see_the_original_names_it_and_the_task_waits(
        instance: Instance, tmp_path: Path) -> None:
    name, phone, place, matter = LETTERS[2]
    scan = draw(tmp_path, name, phone, place, matter, fmt="png", seed=73)
    received = register(instance, scan, Received(file=scan.name), actor="clerk1")
    assert received.letter_id is not None
    # a second machine: the same database, its own instance folder whose blobs/ is empty
    with Instance(tmp_path / "machine-b", {"database_url": instance.database_url}) as blind:
        blind.home.mkdir()
        with instance.db.session() as s:
            sha256 = s.get(Letter, received.letter_id).source_sha256  # type: ignore[union-attr]
        blind_worker = Worker(blind, "machine-b:7", poll_s=0.0, watch_folder=False)
        expected_path = str(blind.blobs.path(sha256))
        assert expected_path in (blind_worker.originals_problem() or "")  # said at its start
        assert Worker(instance, "machine-a:1").originals_problem() is None
        assert blind_worker.run_once()
    with instance.db.session() as s:
        task = s.get(Task, received.task_id)
        letter = s.get(Letter, received.letter_id)
        assert task is not None and letter is not None
        assert (task.state, task.attempts) == ("queued", 1)  # waits for a worker that sees it
        assert sha256 in (task.error or "") and expected_path in (task.error or "")
        assert "machine-b:7" in (task.error or "")
        assert (letter.ingest_state, letter.ingest_error) == ("stored", None)


def test_a_worker_that_lost_its_lease_stops_the_task(instance: Instance) -> None:
    with instance.db.session() as s:
        task_id = tasks.enqueue(s, "index", "index:1", {"letter_id": 1}).id
    slow = Worker(instance, "slow-worker", poll_s=0.0, lease=dt.timedelta(seconds=-1))
    claimed = slow.queue.take(slow.worker_id, slow.lease, None)
    assert claimed is not None and claimed.id == task_id  # its lease is already over
    with instance.db.session() as s:
        assert tasks.claim(s, "other-worker", utcnow(), LEASE) is not None
    with pytest.raises(LeaseLost):
        slow._report(claimed, step="ocr", page=1, pages=2)
