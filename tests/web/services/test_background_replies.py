"""background_replies: the reply form queues a "reply" task, a worker renders it, a page follows it.

Through the real app and database; the worker is web.worker.Worker on the embedded queue (and
once on a real Redis). The page shows each state of the task — queued, running, failed with
its reason, done with its reply — and reloads itself (a meta refresh, no script) while the
task is pending. A task whose worker died after recording the reply is finished with that
reply, not a second one. Tests that render a PDF with LibreOffice are marked slow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Reply, Task, Unit, cases, intake, tasks
from records.models import utcnow
from tests.web.signin import HANDLER_UNIT, add_users, csrf_token, sign_in
from web.app import create_app
from web.bench.redisserver import find_redis_server, redis_server
from web.services.instance import Instance
from web.services.replies import generate_reply
from web.services.reply_tasks import background_replies
from web.services.settings import load_settings
from web.worker import LEASE, REPLY_TASK_KEY, Worker

NEEDS_LO = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+">')
TEMPLATE = "acknowledgement"


def make_office(home: Path, config: str = "background_replies = true\n") -> dict[str, int]:
    """Letters: "mine" in a case of the handler's unit, "other" of another unit, "nameless"
    with no petitioner confirmed yet (a reply cannot be made for it)."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text(config, encoding="utf-8")
    with Instance(home) as instance:
        instance.create()
    add_users(home)
    ids = {}
    with Instance(home) as instance, instance.db.session() as session:
        mine = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        other = Unit(name="县民政局")
        session.add(other)
        session.flush()
        for n, (key, name, unit) in enumerate((("mine", "韩秋菊", mine),
                                               ("other", "卢振东", other),
                                               ("nameless", "", mine)), start=1):
            letter = intake.register_letter(
                session, sha256=hashlib.sha256(str(n).encode()).hexdigest(),
                source_name=f"letter-{n}.jpg", media_type="image/jpeg", size_bytes=1,
                received_on=instance.today() - dt.timedelta(days=3), actor="test")
            letter.summary = "征地补偿款至今没有发放"
            if name:
                intake.attach_petitioner(session, letter, name=name, actor="test")
            case = cases.open_case(session, letter, actor="test")
            case.unit_id = unit.id
            session.flush()
            ids[key] = letter.id
    return ids


@pytest.fixture
def office(home: Path) -> dict[str, int]:
    return make_office(home)


@pytest.fixture
def app(home: Path, office: dict[str, int]) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(home), "TESTING": True})
    yield app
    app.extensions["huiyin"].close()


def instance_of(app: Flask) -> Instance:
    found: Instance = app.extensions["huiyin"]
    return found


def worker(instance: Instance) -> Worker:
    return Worker(instance, "test-worker", poll_s=0.0, watch_folder=False)


def filled(client: FlaskClient, name: str = "韩秋菊") -> dict[str, str]:
    """The acknowledgement's form as a clerk sends it (without opening the form page, whose
    preview warms up LibreOffice)."""
    return {"template": TEMPLATE, "petitioner_name": name, "reg_no": "2026-000001",
            "received_date": "2026-03-02", "summary": "征地补偿款至今没有发放",
            "handling_unit": HANDLER_UNIT, "office_name": "清河县信访局",
            "contact_phone": "0000-0000000", "issue_date": dt.date.today().isoformat(),
            "csrf_token": csrf_token(client, "/replies/")}


def send(client: FlaskClient, letter_id: int, data: dict[str, str]) -> int:
    """Send the reply form; the id of the task it queued (the page it leads to names it)."""
    response = client.post(f"/replies/new/{letter_id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = re.fullmatch(r"/replies/tasks/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def page(client: FlaskClient, task_id: int) -> str:
    response = client.get(f"/replies/tasks/{task_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def replies(instance: Instance) -> list[tuple[int, str, str | None]]:
    """(id, created_by, pdf) of every reply."""
    with instance.db.session() as session:
        return [(r.id, r.created_by, r.pdf_sha256) for r in
                session.scalars(select(Reply).order_by(Reply.id))]


def test_the_setting_is_off_unless_turned_on(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home.mkdir(parents=True)
    with Instance(home) as instance:
        assert background_replies(instance) is False
    for value, on in (("1", True), ("true", True), ("on", True), ("0", False),
                      ("false", False), ("", False)):
        monkeypatch.setenv("HUIYIN_BACKGROUND_REPLIES", value)
        with Instance(home) as instance:
            assert background_replies(instance) is on, value
    monkeypatch.delenv("HUIYIN_BACKGROUND_REPLIES")
    (home / "config.toml").write_text("background_replies = true\n", encoding="utf-8")
    assert load_settings(home)["background_replies"] is True


def test_the_form_queues_a_task_and_its_page_follows_it(app: Flask,
                                                         office: dict[str, int]) -> None:
    clerk = sign_in(app.test_client(), "clerk1")
    instance = instance_of(app)
    data = filled(clerk)
    task_id = send(clerk, office["mine"], data)
    assert send(clerk, office["mine"], data) == task_id  # sent twice (a double click): one task
    assert replies(instance) == []  # nothing rendered in the request
    with instance.db.session() as session:
        task = session.get(Task, task_id)
        assert task is not None and (task.kind, task.state) == ("reply", "queued")
        assert task.letter_id == office["mine"] and task.created_by == "clerk1"
        assert task.payload == {"letter_id": office["mine"], "template": TEMPLATE,
                                "data": {k: v for k, v in data.items()  # the issuer's are
                                         if k not in ("template", "csrf_token", "office_name",
                                                      "issue_date")},  # never the form's
                                "pdf": True, "sign": False, "actor": "clerk1"}
    queued = page(clerk, task_id)
    assert "排队等待后台工作进程生成" in queued and REFRESH.search(queued)
    with instance.db.session() as session:  # a worker takes it
        assert tasks.claim(session, "w1", utcnow(), LEASE) is not None
    running = page(clerk, task_id)
    assert "正在生成答复文书" in running and REFRESH.search(running)
    assert f'href="/replies/tasks/{task_id}"' in clerk.get("/replies/").get_data(as_text=True)
    # who may not see the letter may not see its task; a task of another kind is no page
    others = send(clerk, office["other"], filled(clerk, "卢振东"))
    handler = sign_in(app.test_client(), "handler1")
    assert handler.get(f"/replies/tasks/{others}").status_code == 404
    listed = handler.get("/replies/").get_data(as_text=True)
    assert f"/replies/tasks/{task_id}" in listed and f"/replies/tasks/{others}" not in listed
    with instance.db.session() as session:
        index_task = tasks.enqueue(session, "index", "index:x", {"letter_id": office["mine"]},
                                   letter_id=office["mine"]).id
    assert clerk.get(f"/replies/tasks/{index_task}").status_code == 404
    assert clerk.get("/replies/tasks/99999").status_code == 404


def test_a_task_that_cannot_be_done_shows_why_and_stops_refreshing(
        app: Flask, office: dict[str, int]) -> None:
    clerk = sign_in(app.test_client(), "clerk1")
    instance = instance_of(app)
    refused = clerk.post(f"/replies/new/{office['nameless']}", data=filled(clerk, "无名"))
    assert refused.status_code == 400  # no petitioner confirmed: refused at once, as today
    assert "还没有确认信访人姓名" in refused.get_data(as_text=True)
    task_id = send(clerk, office["mine"], filled(clerk))
    with instance.db.session() as session:  # meanwhile the petitioner is taken off the letter
        letter = intake.get_letter(session, office["mine"])
        letter.petitioners.clear()
    assert worker(instance).run_once() is True  # refused before anything is rendered
    failed = page(clerk, task_id)
    assert "生成失败" in failed and "答复未生成" in failed and "还没有确认信访人姓名" in failed
    assert not REFRESH.search(failed)
    assert f"/replies/new/{office['mine']}?template={TEMPLATE}" in failed
    assert replies(instance) == []
    assert "答复未生成" in clerk.get("/replies/").get_data(as_text=True)  # listed for a day
    with instance.db.session() as session:
        assert tasks.for_letters(session, [office["nameless"]]) == {}


def test_a_reply_recorded_by_a_worker_that_then_died_is_not_recorded_twice(
        app: Flask, office: dict[str, int]) -> None:
    clerk = sign_in(app.test_client(), "clerk1")
    instance = instance_of(app)
    data = filled(clerk)
    task_id = send(clerk, office["mine"], data)
    # attempt 1: a worker claims the task, records the reply, and dies before finishing it
    with instance.db.session() as session:
        assert tasks.claim(session, "dead-worker", utcnow() - LEASE * 2, LEASE) is not None
    values = {k: v for k, v in data.items() if k not in ("template", "csrf_token")}
    first = generate_reply(instance, office["mine"], TEMPLATE, out_dir=None, actor="clerk1",
                           data={**values, REPLY_TASK_KEY: task_id}, pdf=False)
    assert "正在生成答复文书" in page(clerk, task_id)  # its lease has not been seen to expire
    assert worker(instance).run_once() is True  # attempt 2 finds the reply, renders nothing
    assert [r for r, _, _ in replies(instance)] == [first.reply_id]
    with instance.db.session() as session:
        task = session.get(Task, task_id)
        assert task is not None and (task.state, task.attempts) == ("done", 2)
    done = page(clerk, task_id)
    assert f"已生成 {first.doc_number}" in done and not REFRESH.search(done)
    assert f'href="/replies/{first.reply_id}"' in done
    assert f"/replies/tasks/{task_id}" not in clerk.get("/replies/").get_data(as_text=True)


@pytest.mark.slow
@NEEDS_LO
def test_the_worker_renders_the_reply_and_the_page_links_it(app: Flask,
                                                             office: dict[str, int]) -> None:
    handler = sign_in(app.test_client(), "handler1")
    instance = instance_of(app)
    task_id = send(handler, office["mine"], filled(handler))
    assert worker(instance).run_once() is True
    [(reply_id, created_by, pdf)] = replies(instance)
    assert created_by == "handler1" and pdf is not None  # the signed-in user's reply, a PDF
    done = page(handler, task_id)
    assert not REFRESH.search(done) and f'href="/replies/{reply_id}"' in done
    shown = handler.get(f"/replies/{reply_id}").get_data(as_text=True)
    assert "韩秋菊" in shown and "PDF" in shown


@pytest.mark.slow
@NEEDS_LO
@pytest.mark.skipif(find_redis_server() is None, reason="redis-server not found")
def test_on_redis_the_reply_reaches_a_worker(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    with redis_server() as server:
        office = make_office(home, f'background_replies = true\nqueue_url = "{server.url}"\n')
        app = create_app({"HUIYIN_HOME": str(home), "TESTING": True})
        clerk = sign_in(app.test_client(), "clerk1")
        instance = instance_of(app)
        task_id = send(clerk, office["mine"], filled(clerk))
        redis_worker = worker(instance)
        assert type(redis_worker.queue).__name__ == "RedisQueue"
        try:
            assert redis_worker.drain() == {"done": 1, "failed": 0}
        finally:
            redis_worker.queue.close()
        [(reply_id, created_by, pdf)] = replies(instance)
        assert created_by == "clerk1" and pdf is not None
        assert f'href="/replies/{reply_id}"' in page(clerk, task_id)
        instance.close()
