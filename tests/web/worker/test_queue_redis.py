"""Background work through Redis: a real redis-server, real `huiyin worker` processes, real OCR.

The tasks (OCR and index a letter, index it again, render a reply) reach worker processes
through Redis; a worker SIGKILLed mid-task has its task retried by another and done once in
the records; two workers never read the same page; a worker that cannot see the originals
fails the attempt naming the blob and the path, and the task is not lost.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from records import AuditEvent, Page, Reply, Task, intake, tasks
from tests.web.conftest import LETTERS, draw
from tests.web.orphans import assert_gone_with_a_killed_parent
from web.bench.redisserver import PACKAGE, RedisServer, find_redis_server, redis_server
from web.services.instance import Instance
from web.services.intake import Received, register
from web.worker import Worker
from web.worker.queue import RedisQueue, open_queue, queue_digest

pytestmark = pytest.mark.skipif(
    find_redis_server() is None,
    reason=f"redis-server not found (/usr/bin/redis-server): apt-get install {PACKAGE}")

HUIYIN = str(Path(sys.executable).parent / "huiyin")
PAGE_READ = re.compile(r"task (\d+) letter (\d+): page (\d+) of (\d+) read")


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with redis_server() as running:
        yield running


@pytest.fixture
def office(home: Path, server: RedisServer) -> Iterator[Instance]:
    """An instance whose queue is the test Redis (its own queue name: its own database)."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text(f'queue_url = "{server.url}"\n', encoding="utf-8")
    inst = Instance(home)
    inst.create()
    yield inst
    inst.close()


def queue_of(office: Instance) -> RedisQueue:
    queue = open_queue(office, wait_s=0.5)
    assert isinstance(queue, RedisQueue)
    return queue


def letter_file(folder: Path, seed: int, pages: int = 1) -> Path:
    """A drawn scan: one page (PNG), or a PDF of several pages."""
    name, phone, place, matter = LETTERS[seed % len(LETTERS)]
    if pages == 1:
        return draw(folder, name, phone, place, matter, fmt="png", seed=seed)
    from ocr import synthetic

    images = [synthetic.render_scan([f"第{n}页", f"我叫{name}，家住{place}，",
                                     f"联系电话{phone}。", f"反映{matter}。"], seed=seed * 10 + n)
              for n in range(1, pages + 1)]
    path = folder / f"letter-{seed}.pdf"
    synthetic.save_pdf(images, path)
    return path


def queue_ingest(office: Instance, path: Path) -> tuple[int, int]:
    """Register and store a scan, queue its "ingest" task: (letter id, task id)."""
    received = register(office, path, Received(file=path.name), actor="clerk1")
    assert received.letter_id is not None and received.task_id is not None, received
    return received.letter_id, received.task_id


def start_worker(home: Path, log: Path, *args: str,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [HUIYIN, "--home", str(home), "worker", "--poll", "0.2", *args],
            stdout=subprocess.DEVNULL, stderr=out, env={**os.environ, **(env or {})})


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def tails(*logs: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                     for log in logs if log.exists())


def wait_for(check: Callable[[], bool], timeout: float, what: str, *logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{tails(*logs)}")


def task_row(office: Instance, task_id: int) -> Task:
    with office.db.session() as s:
        task = s.get(Task, task_id)
        assert task is not None
        s.expunge(task)
        return task


def all_finished(office: Instance, ids: list[int]) -> Callable[[], bool]:
    def check() -> bool:
        with office.db.session() as s:
            states = s.scalars(select(Task.state).where(Task.id.in_(ids))).all()
        return len(states) == len(ids) and all(st in ("done", "failed") for st in states)
    return check


def read_events(session: Any, letter_id: int) -> int:
    """How many times the audit log says the letter's pages were read to the end."""
    return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "read", AuditEvent.entity == "letter",
        AuditEvent.entity_id == letter_id)))


def pages_read(*logs: Path) -> Counter[tuple[int, int]]:
    """(letter, page) -> how many times a worker's log says it read that page."""
    found: Counter[tuple[int, int]] = Counter()
    for log in logs:
        for _, letter, page, _ in PAGE_READ.findall(log.read_text(errors="replace")):
            found[(int(letter), int(page))] += 1
    return found


@pytest.mark.slow
def test_ocr_index_and_reply_tasks_flow_through_redis_to_a_worker_process(
        office: Instance, server: RedisServer, tmp_path: Path) -> None:
    import redis

    letter_id, ingest_id = queue_ingest(office, letter_file(tmp_path, 1))
    name, phone = LETTERS[1][0], LETTERS[1][1]
    with office.db.session() as s:
        intake.attach_petitioner(s, intake.get_letter(s, letter_id), name=name, actor="test")
        index_id = tasks.enqueue(s, "index", f"index:{letter_id}", {"letter_id": letter_id},
                                 letter_id=letter_id).id
        reply_id = tasks.enqueue(s, "reply", f"reply:{letter_id}:acknowledgement", {
            "letter_id": letter_id, "template": "acknowledgement", "pdf": False,
            "actor": "clerk1"}, letter_id=letter_id).id
    log = tmp_path / "worker.log"
    worker = start_worker(office.home, log)
    try:
        wait_for(all_finished(office, [ingest_id, index_id, reply_id]), 180, "the three tasks",
                 log)
    finally:
        stop(worker)
    assert worker.returncode == 0
    text = log.read_text()
    assert "RedisQueue" in text
    for task_id in (ingest_id, index_id, reply_id):
        row = task_row(office, task_id)
        assert (row.state, row.attempts, row.error) == ("done", 1, None), (task_id, text[-2000:])
    with office.db.session() as s:
        letter = intake.get_letter(s, letter_id)
        assert letter.ingest_state == "indexed" and letter.page_count == 1
        [reply] = s.scalars(select(Reply).where(Reply.letter_id == letter_id))
        assert reply.docx_sha256 and reply.data["petitioner_name"] == name
        assert reply.data["queue_task_id"] == reply_id
    assert [h.letter_id for h in office.index.search(phone).hits] == [letter_id]
    # each task went through Redis: one message sent for its first attempt, none left waiting
    client = redis.Redis.from_url(server.url)
    name_ = f"huiyin.{queue_digest(office.database_url)}"
    assert all(client.exists(f"{name_}:sent:{t}:0") for t in (ingest_id, index_id, reply_id))
    assert client.llen(f"huey.redis.{name_.replace('.', '')}") == 0
    client.close()


@pytest.mark.slow
def test_a_worker_killed_mid_task_leaves_it_to_another_and_it_is_done_once(
        office: Instance, tmp_path: Path) -> None:
    pages = 4
    letter_id, task_id = queue_ingest(office, letter_file(tmp_path, 4, pages=pages))
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(office.home, log, "--lease", "20") for log in logs]
    try:
        def reading() -> bool:
            row = task_row(office, task_id)
            return row.state == "running" and int((row.progress or {}).get("page", 0)) >= 1
        wait_for(reading, 180, "a worker to read the first page", *logs)
        holder = task_row(office, task_id).leased_by or ""
        pid = int(holder.split(":")[1])
        [victim] = [w for w in workers if w.pid == pid]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        [survivor] = [w for w in workers if w is not victim]
        wait_for(all_finished(office, [task_id]), 240, "the other worker to finish it", *logs)
    finally:
        for w in workers:
            stop(w)
    row = task_row(office, task_id)
    assert (row.state, row.attempts, row.error) == ("done", 2, None), tails(*logs)
    assert survivor.returncode == 0 and victim.returncode == -signal.SIGKILL
    with office.db.session() as s:
        numbers = s.scalars(select(Page.number).where(Page.letter_id == letter_id)).all()
        letter = intake.get_letter(s, letter_id)
        assert sorted(numbers) == list(range(1, pages + 1))  # each page once in the records
        assert (letter.ingest_state, letter.page_count) == ("indexed", pages)
        assert read_events(s, letter_id) == 1  # the letter was read once, not once per worker
    assert [h.letter_id for h in office.index.search(LETTERS[1][1]).hits] == [letter_id]
    survivor_log = logs[workers.index(survivor)].read_text()
    assert f"task {task_id} (ingest) taken, attempt 2" in survivor_log


@pytest.mark.slow
def test_two_workers_on_one_queue_never_read_the_same_page_twice(
        office: Instance, tmp_path: Path) -> None:
    queued = [queue_ingest(office, letter_file(tmp_path, seed, pages=2)) for seed in range(3)]
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(office.home, log) for log in logs]
    try:
        wait_for(all_finished(office, [t for _, t in queued]), 300, "three letters", *logs)
    finally:
        for w in workers:
            stop(w)
    read = pages_read(*logs)
    assert sorted(read) == sorted((letter, page) for letter, _ in queued for page in (1, 2))
    assert set(read.values()) == {1}, read  # no page read twice, by either worker
    for _, task_id in queued:
        row = task_row(office, task_id)
        assert (row.state, row.attempts) == ("done", 1)
    with office.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Page)) == 6
        assert [read_events(s, letter) for letter, _ in queued] == [1, 1, 1]


def test_a_worker_that_cannot_see_the_original_fails_it_clearly_and_it_is_not_lost(
        office: Instance, tmp_path: Path) -> None:
    letter_id, task_id = queue_ingest(office, letter_file(tmp_path, 2))
    with office.db.session() as s:
        sha256 = intake.get_letter(s, letter_id).source_sha256
    # another machine: the same database and queue, but its own (empty) blob store
    elsewhere = tmp_path / "machine-b"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text(
        f'queue_url = "{office.settings["queue_url"]}"\n'
        f'database_url = "{office.database_url}"\n', encoding="utf-8")
    blind = Instance(elsewhere, {"database_url": office.database_url})
    try:
        looked_at = blind.blobs.path(sha256)
        worker = Worker(blind, "machine-b:1", poll_s=0.2, watch_folder=False)
        assert worker._run_one() == "retried"  # this attempt failed; the task waits for another
        row = task_row(office, task_id)
        assert row.state == "queued" and row.attempts == 1
        assert sha256 in (row.error or "") and str(looked_at) in (row.error or "")
        assert "machine-b:1" in (row.error or "") and "原件" in (row.error or "")
        with office.db.session() as s:  # the letter itself is untouched
            letter = intake.get_letter(s, letter_id)
            assert (letter.ingest_state, letter.ingest_error) == ("stored", None)
        # a worker that sees the shared store takes it over and finishes it
        assert Worker(office, "machine-a:1", poll_s=0.2, watch_folder=False)._run_one() == "done"
        row = task_row(office, task_id)
        assert (row.state, row.attempts, row.error) == ("done", 2, None)
    finally:
        blind.close()


def test_when_no_worker_can_see_the_original_the_task_ends_failed_with_the_reason(
        office: Instance, tmp_path: Path) -> None:
    letter_id, task_id = queue_ingest(office, letter_file(tmp_path, 0))
    (office.home / "blobs").rename(office.home / "blobs.unmounted")  # the share is gone
    office.__dict__.pop("blobs", None)
    try:
        worker = Worker(office, "machine-a:1", poll_s=0.2, watch_folder=False)
        outcomes = [worker._run_one() for _ in range(tasks.MAX_ATTEMPTS)]
    finally:
        shutil.rmtree(office.home / "blobs")
        (office.home / "blobs.unmounted").rename(office.home / "blobs")
    assert outcomes == ["retried", "retried", "failed"]
    row = task_row(office, task_id)
    assert (row.state, row.attempts) == ("failed", tasks.MAX_ATTEMPTS)
    assert str(office.home / "blobs") in (row.error or "")
    assert worker._run_one() is None  # nothing left to take: not retried for ever
    with office.db.session() as s:
        assert intake.get_letter(s, letter_id).ingest_state == "stored"


def test_a_duplicate_message_is_dropped_by_the_row(office: Instance) -> None:
    with office.db.session() as s:
        task_id = tasks.enqueue(s, "index", "index:404", {"letter_id": 404}).id
    queue = queue_of(office)
    try:
        assert queue.publish() == 1 and queue.publish() == 0  # one message per attempt
        assert queue.pending() == 1
        lease = dt.timedelta(seconds=30)
        taken = queue.take("w1", lease)
        assert taken is not None and (taken.id, taken.attempts) == (task_id, 1)
        # the same task named again (a resend after RESEND_S, or a second publisher)
        queue.huey.enqueue(queue._message.s(task_id, "index", {"letter_id": 404}, None, 0))
        assert queue.pending() == 1
        assert queue.take("w2", lease) is None  # w1 holds it under a live lease: dropped
        assert queue.pending() == 0
        row = task_row(office, task_id)
        assert (row.state, row.leased_by, row.attempts) == ("running", "w1", 1)
    finally:
        queue.close()


def test_a_bad_queue_url_is_named(home: Path) -> None:
    from click.testing import CliRunner

    from web.cli import main

    home.mkdir(parents=True)
    with Instance(home) as inst:
        inst.create()
    (home / "config.toml").write_text('queue_url = "amqp://broker"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--home", str(home), "worker", "--once"])
    assert result.exit_code == 1
    assert "queue_url must start with redis://" in result.output
    assert "amqp://broker" in result.output


def test_the_redis_server_goes_when_its_parent_is_killed() -> None:
    assert_gone_with_a_killed_parent(
        "from web.bench.redisserver import redis_server\n"
        "with redis_server() as s:\n"
        "    print(s.root, s.pid, flush=True)\n", "redis-server", timeout=20)


