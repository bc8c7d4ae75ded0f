"""A change saved while the search index is busy is indexed by a worker, never silently lost.

Another process holds the index's writer lock (as a long `huiyin reindex` would) past the
instance's lock_timeout: the line edit, the review, the case action and the ingest still save,
each queues an "index" task per letter, and a worker run afterwards makes the letters found
by search with their new fields. A case of many letters is indexed by the workers, one task per
letter, even when the index is free. One test runs on a real Redis queue.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Letter, Page, Task, cases, intake, sha256_file
from search import LetterIndex
from search._tantivy import DIR_NAME as TANTIVY_DIR
from tests.web.signin import HANDLER_UNIT, add_users, csrf_token, sign_in
from web.app import create_app
from web.bench.redisserver import find_redis_server, redis_server
from web.services import case_actions, review
from web.services.indexing import IN_REQUEST, index_letters
from web.services.instance import Instance
from web.services.intake import progress
from web.services.pipeline import complete
from web.worker import Worker

LOCK_TIMEOUT = 0.3  # seconds the instance's index waits for the other writer before giving up

# Another process takes tantivy's writer lock and keeps it until its stdin is closed.
HOLD_LOCK = ("import sys, tantivy\n"
             "writer = tantivy.Index.open(sys.argv[1]).writer(15_000_000, 1)\n"
             "print('held', flush=True)\n"
             "sys.stdin.read()\n")


@contextmanager
def index_busy(instance: Instance) -> Iterator[None]:
    """The instance's index held by another process's writer for the length of the block."""
    with subprocess.Popen([sys.executable, "-c", HOLD_LOCK,
                           str(instance.home / "index" / TANTIVY_DIR)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        try:
            assert holder.stdout.readline() == b"held\n"
            yield
        finally:
            holder.stdin.close()  # the holder exits, its writer lock with it
            holder.wait(30)


def give_up_quickly(instance: Instance) -> None:
    """Open the instance's index with a short lock_timeout (the default waits 30 s)."""
    if "index" in instance.__dict__:
        instance.index.close()
    instance.__dict__["index"] = LetterIndex.open(
        instance.index_location, engine=instance.settings["search_engine"],
        lock_timeout=LOCK_TIMEOUT)


def add_letters(instance: Instance, count: int, *, case: bool = False) -> list[int]:
    """Read letters (no OCR: text and one page of lines written here), indexed; in one case."""
    ids = []
    with instance.db.session() as session:
        opened = None
        for n in range(count):
            letter = intake.register_letter(
                session, sha256=f"{len(ids) + 1000 * count:064x}", source_name=f"scan-{n}.jpg",
                media_type="image/jpeg", size_bytes=1, received_on=dt.date(2026, 3, 2),
                actor="test")
            lines = [f"我叫韩秋菊{n}号", "反映征地补偿款至今没有发放", "请求尽快解决"]
            letter.text = "\n".join(lines)
            letter.township = "城关镇"
            session.add(Page(letter=letter, number=1, width=800, height=1000, source="scan",
                             engine="test", text=letter.text, mean_score=0.95,
                             lines=[{"text": t, "box": [0, 40 * i, 800, 40 * i + 30],
                                     "score": 0.95} for i, t in enumerate(lines)]))
            intake.attach_petitioner(session, letter, name=f"韩秋菊{n}号", actor="test")
            letter.ingest_state = "indexed"
            session.flush()
            if case:
                if opened is None:
                    opened = cases.open_case(session, letter, actor="test")
                else:
                    cases.link_letter(session, letter, opened, actor="test")
            ids.append(letter.id)
        index_letters(instance, session.scalars(select(Letter)).all())
    return ids


def index_tasks(instance: Instance) -> list[tuple[int | None, str, str]]:
    """(letter, state, key) of every "index" task, oldest first."""
    with instance.db.session() as session:
        return [(t.letter_id, t.state, t.key) for t in session.scalars(
            select(Task).where(Task.kind == "index").order_by(Task.id))]


def found(instance: Instance, query: str = "", **filters: str) -> set[int]:
    return {hit.letter_id for hit in instance.index.search(query, limit=100, **filters).hits}


def worker(instance: Instance) -> Worker:
    return Worker(instance, "test-worker", poll_s=0.0, watch_folder=False)


@pytest.fixture
def office(instance: Instance) -> Instance:
    add_users(instance.home)
    give_up_quickly(instance)
    return instance


@pytest.fixture
def app(office: Instance) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    give_up_quickly(app.extensions["huiyin"])
    yield app
    app.extensions["huiyin"].close()


def edit(client: FlaskClient, instance: Instance, letter_id: int, text: str) -> int:
    """Correct the first line of the letter's page through the review page; the HTTP status."""
    with instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        page_id, version = letter.pages[0].id, letter.version
    return client.post(f"/review/letters/{letter_id}/lines", data={
        "page_id": page_id, "line": 0, "text": text, "version": version,
        "csrf_token": csrf_token(client, "/review/")}).status_code


def test_a_line_edit_while_the_index_is_busy_is_saved_and_indexed_by_the_worker(
        office: Instance, app: Flask) -> None:
    [letter_id] = add_letters(office, 1)
    clerk = sign_in(app.test_client(), "clerk1")
    web = app.extensions["huiyin"]
    with index_busy(office):
        assert edit(clerk, office, letter_id, "我叫韩秋菊，电话13912345678") == 302
        assert edit(clerk, office, letter_id, "我叫韩秋菊，电话13987654321") == 302
    with office.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None and "13987654321" in letter.text  # both saves kept
    assert found(web, "13987654321") == set()  # not in the index yet ...
    [(task_letter, state, key)] = index_tasks(office)  # ... one task for both edits
    assert (task_letter, state) == (letter_id, "queued")
    assert key.startswith(f"index:{letter_id}:")
    assert worker(office).drain() == {"done": 1, "failed": 0}
    assert found(web, "13987654321") == {letter_id}  # the edit the worker indexed
    assert found(web, "13912345678") == set()
    # the index free: indexed in the request, nothing queued
    assert edit(clerk, office, letter_id, "我叫韩秋菊，电话13700001111") == 302
    assert found(web, "13700001111") == {letter_id}
    assert len(index_tasks(office)) == 1
    # busy again: the finished task does not stand in for a new one
    with index_busy(office):
        assert edit(clerk, office, letter_id, "我叫韩秋菊，电话13600002222") == 302
    assert [s for _, s, _ in index_tasks(office)] == ["done", "queued"]
    assert worker(office).drain() == {"done": 1, "failed": 0}
    assert found(office, "13600002222") == {letter_id}


def test_a_review_while_the_index_is_busy_is_indexed_with_its_new_fields(
        office: Instance) -> None:
    [letter_id] = add_letters(office, 1)
    form = {"township": "石桥镇", "village": "柳树村", "category": "", "summary": "征地补偿",
            "petitioners": [{"name": "韩秋菊", "id_number": "", "phone": "13912345678",
                             "address": ""}]}
    with office.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        version = letter.version
    with index_busy(office):
        saved = review.save_metadata(office, letter_id, form, actor="clerk1",
                                     expected_version=version, case="new")
    assert saved["case_no"]
    assert found(office, "", township="石桥镇") == set()
    assert [(t, s) for t, s, _ in index_tasks(office)] == [(letter_id, "queued")]
    assert worker(office).run_once() is True
    assert found(office, "", township="石桥镇") == {letter_id}
    assert found(office, "", case_id=saved["case_id"]) == {letter_id}
    assert found(office, "13912345678") == {letter_id}


def test_a_case_action_while_the_index_is_busy_is_indexed_by_the_worker(
        office: Instance) -> None:
    ids = add_letters(office, 3, case=True)
    with office.db.session() as session:
        letter = session.get(Letter, ids[0])
        assert letter is not None and letter.case is not None
        case_id, version = letter.case.id, letter.case.version
    with index_busy(office):
        outcome = case_actions.act(office, case_id, "accept", {"told": "当面告知"},
                                   actor="clerk1", role="clerk", expected_version=version)
    assert outcome.stage == "accepted"
    assert found(office, "", status="accepted") == set()
    assert sorted(t for t, _, _ in index_tasks(office)) == ids
    assert worker(office).drain() == {"done": 3, "failed": 0}
    assert found(office, "", status="accepted") == set(ids)


def test_a_case_of_many_letters_is_indexed_by_the_workers_letter_by_letter(
        office: Instance) -> None:
    ids = add_letters(office, IN_REQUEST + 5, case=True)
    with office.db.session() as session:
        letter = session.get(Letter, ids[0])
        assert letter is not None and letter.case is not None
        case_id, version = letter.case.id, letter.case.version
    outcome = case_actions.act(office, case_id, "accept", {"told": "当面告知"},
                               actor="clerk1", role="clerk", expected_version=version)
    outcome = case_actions.act(office, case_id, "owner", {"unit": HANDLER_UNIT, "reason": "属地"},
                               actor="clerk1", role="clerk", expected_version=outcome.version)
    assert outcome.stage == "accepted"
    assert found(office, "", unit=HANDLER_UNIT) == set()  # not in the request
    queued = index_tasks(office)
    assert sorted(t for t, _, _ in queued) == ids  # one per letter for both actions
    assert {s for _, s, _ in queued} == {"queued"}
    assert worker(office).drain() == {"done": len(ids), "failed": 0}
    assert found(office, "", unit=HANDLER_UNIT, status="accepted") == set(ids)


def test_an_ingest_that_finds_the_index_busy_leaves_the_letter_to_an_index_task(
        office: Instance, tmp_path: Path) -> None:
    original = tmp_path / "scan.jpg"
    original.write_bytes(b"a stored original")
    sha256 = office.blobs.put(original, sha256_file(original))
    with office.db.session() as session:  # its pages were read; the index step is left
        letter = intake.register_letter(session, sha256=sha256, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=17,
                                        received_on=dt.date(2026, 3, 2), actor="test")
        letter.text, letter.ingest_state = "反映小区电梯停运已三个月", "read"
        session.flush()
        letter_id = letter.id
    with index_busy(office):
        result = complete(office, letter_id)
    assert result.error is None and result.index_queued and result.warning
    [shown] = progress(office, [letter_id])
    assert (shown["state"], shown["done"]) == ("indexing", False)
    assert found(office, "电梯停运") == set()
    assert worker(office).run_once() is True
    assert found(office, "电梯停运") == {letter_id}
    with office.db.session() as session:
        assert intake.get_letter(session, letter_id).ingest_state == "indexed"
    [shown] = progress(office, [letter_id])
    assert (shown["state"], shown["done"]) == ("indexed", True)


@pytest.mark.skipif(find_redis_server() is None, reason="redis-server not found")
def test_on_redis_a_save_while_the_index_is_busy_reaches_a_worker(home: Path) -> None:
    with redis_server() as server:
        home.mkdir(parents=True)
        (home / "config.toml").write_text(f'queue_url = "{server.url}"\n', encoding="utf-8")
        with Instance(home) as office:
            office.create()
            give_up_quickly(office)
            [letter_id] = add_letters(office, 1)
            with office.db.session() as session:
                letter = session.get(Letter, letter_id)
                assert letter is not None
                version = letter.version
            with index_busy(office):
                review.edit_line(office, _page_of(office, letter_id), 1, "反映电梯停运三个月",
                                 actor="clerk1", expected_version=version)
            assert found(office, "电梯停运") == set()
            redis_worker = worker(office)
            assert type(redis_worker.queue).__name__ == "RedisQueue"
            assert redis_worker.drain() == {"done": 1, "failed": 0}
            redis_worker.queue.close()
            assert found(office, "电梯停运") == {letter_id}


def _page_of(instance: Instance, letter_id: int) -> int:
    with instance.db.session() as session:
        page_id = session.scalars(select(Page.id).where(Page.letter_id == letter_id)).first()
        assert page_id is not None
        return page_id
