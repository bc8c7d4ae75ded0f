"""The task queue: one task per key, atomic claims, leases that expire, three attempts."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from records import Database, Task, tasks
from tests.records.databases import fresh_url

NOW = dt.datetime(2026, 11, 24, 9, 0)
LEASE = dt.timedelta(minutes=5)


def _queue(db: Database, n: int, kind: str = "ingest") -> list[int]:
    with db.session() as s:
        return [tasks.enqueue(s, kind, f"{kind}:{i}", {"n": i}, actor="test").id
                for i in range(n)]


def _task(db: Database, task_id: int) -> Task:
    with db.session() as s:
        task = s.get(Task, task_id)
        assert task is not None
        return task


def test_the_same_key_twice_is_one_task(db: Database) -> None:
    with db.session() as s:
        first = tasks.enqueue(s, "ingest", "ingest:7", {"letter_id": 7}, actor="clerk1")
        again = tasks.enqueue(s, "ingest", "ingest:7", {"letter_id": 7, "other": 1})
        assert again.id == first.id
        assert (first.state, first.attempts, first.created_by) == ("queued", 0, "clerk1")
    with db.session() as s:
        assert [t.key for t in tasks.pending(s)] == ["ingest:7"]


def test_claim_takes_the_oldest_and_counts_the_attempt(db: Database) -> None:
    first, second = _queue(db, 2)
    with db.session() as s:
        task = tasks.claim(s, "w1", NOW, LEASE)
        assert task is not None and task.id == first
        assert (task.state, task.leased_by, task.attempts) == ("running", "w1", 1)
        assert task.leased_until == NOW + LEASE
    with db.session() as s:
        assert tasks.claim(s, "w2", NOW, LEASE).id == second  # type: ignore[union-attr]
        assert tasks.claim(s, "w3", NOW, LEASE) is None


def test_claim_only_the_kinds_asked_for(db: Database) -> None:
    _queue(db, 1, "ingest")
    [other] = _queue(db, 1, "intake-file")
    with db.session() as s:
        task = tasks.claim(s, "w1", NOW, LEASE, kinds=["intake-file"])
        assert task is not None and task.id == other


def test_two_claimers_never_get_the_same_task(tmp_path: Path) -> None:
    url = fresh_url(tmp_path, "queue")
    setup = Database(url)
    setup.upgrade()
    ids = _queue(setup, 40)
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        db = Database(url)  # its own engine and connection, as a second process would have
        mine = claimed.setdefault(name, [])
        start.wait()
        try:
            while True:
                with db.session() as s:
                    task = tasks.claim(s, name, NOW, LEASE)
                    if task is None:
                        return
                    mine.append(task.id)
        finally:
            db.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [task_id for got in claimed.values() for task_id in got]
    assert sorted(every) == ids  # each task exactly once
    with setup.session() as s:
        assert {t.attempts for t in s.query(Task)} == {1}
    setup.close()


def test_an_expired_lease_is_claimed_again(db: Database) -> None:
    [task_id] = _queue(db, 1)
    with db.session() as s:
        tasks.claim(s, "dead-worker", NOW, LEASE)
    with db.session() as s:  # still leased: nobody else takes it
        assert tasks.claim(s, "w2", NOW + dt.timedelta(minutes=4), LEASE) is None
    with db.session() as s:
        task = tasks.claim(s, "w2", NOW + dt.timedelta(minutes=6), LEASE)
        assert task is not None and task.id == task_id
        assert (task.leased_by, task.attempts) == ("w2", 2)
    with db.session() as s:  # the dead worker's late answer does not count
        assert tasks.finish(s, task_id, "dead-worker") is False
        assert tasks.finish(s, task_id, "w2") is True
    assert _task(db, task_id).state == "done"


def test_heartbeat_keeps_the_lease(db: Database) -> None:
    [task_id] = _queue(db, 1)
    with db.session() as s:
        tasks.claim(s, "w1", NOW, LEASE)
        assert tasks.heartbeat(s, task_id, "w1", NOW + dt.timedelta(minutes=4), LEASE)
        assert not tasks.heartbeat(s, task_id, "w2", NOW + dt.timedelta(minutes=4), LEASE)
    with db.session() as s:
        assert tasks.claim(s, "w2", NOW + dt.timedelta(minutes=6), LEASE) is None


def test_progress_is_recorded(db: Database) -> None:
    [task_id] = _queue(db, 1)
    with db.session() as s:
        tasks.progress(s, task_id, step="ocr", page=2, pages=5)
    assert _task(db, task_id).progress == {"step": "ocr", "page": 2, "pages": 5}


def test_a_task_failing_three_times_stays_failed_with_its_reason(db: Database) -> None:
    [task_id] = _queue(db, 1)
    states = []
    for attempt in range(1, 4):
        with db.session() as s:
            task = tasks.claim(s, "w1", NOW, LEASE)
            assert task is not None and task.attempts == attempt
            states.append(tasks.fail(s, task_id, "w1", f"第 {attempt} 次出错"))
    assert states == ["queued", "queued", "failed"]
    task = _task(db, task_id)
    assert (task.state, task.error) == ("failed", "第 3 次出错")
    assert task.finished_at is not None
    with db.session() as s:
        assert tasks.claim(s, "w1", NOW + dt.timedelta(days=1), LEASE) is None
        assert tasks.pending(s) == []


def test_a_permanent_failure_is_not_retried(db: Database) -> None:
    [task_id] = _queue(db, 1)
    with db.session() as s:
        tasks.claim(s, "w1", NOW, LEASE)
        assert tasks.fail(s, task_id, "w1", "不是扫描件", permanent=True) == "failed"
        assert tasks.fail(s, task_id, "w1", "again") is None  # no longer running


def test_a_task_whose_worker_dies_every_time_is_given_up(db: Database) -> None:
    [task_id] = _queue(db, 1)
    when = NOW
    for _ in range(3):
        with db.session() as s:
            assert tasks.claim(s, "w", when, LEASE) is not None
        when += LEASE + dt.timedelta(seconds=1)  # the worker died: its lease runs out
    with db.session() as s:
        assert tasks.claim(s, "w", when, LEASE) is None
    task = _task(db, task_id)
    assert task.state == "failed" and "3 次" in (task.error or "")


def test_release_puts_the_task_back_without_counting(db: Database) -> None:
    [task_id] = _queue(db, 1)
    with db.session() as s:
        tasks.claim(s, "w1", NOW, LEASE)
        assert tasks.release(s, task_id, "w1")
    task = _task(db, task_id)
    assert (task.state, task.attempts, task.leased_by) == ("queued", 0, None)


def test_for_letters_and_recent(db: Database) -> None:
    from records import intake

    with db.session() as s:
        letter = intake.register_letter(s, sha256="a" * 64, source_name="a.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=NOW.date(), actor="test")
        task = tasks.enqueue(s, "ingest", f"ingest:{letter.id}", {"letter_id": letter.id},
                             letter_id=letter.id)
        assert tasks.for_letters(s, [letter.id, 999]) == {letter.id: task}
        assert tasks.for_letters(s, []) == {}
        assert [t.id for t in tasks.recent(s, "ingest")] == [task.id]
