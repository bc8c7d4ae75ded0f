"""扫描登记 through the real app: upload with a CSRF token as a signed-in clerk, the worker reads
the scan, progress reaches indexed and the letter is found; refusals each get their message."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from records import Letter, Task
from tests.web.conftest import LETTERS, draw
from tests.web.signin import add_users, csrf_token, sign_in
from web.app import create_app
from web.services import intake
from web.services.instance import Instance
from web.worker import Worker


@pytest.fixture
def app(instance: Instance) -> Iterator[Flask]:
    add_users(instance.home)
    yield create_app({"HUIYIN_HOME": str(instance.home), "TESTING": True})


def clerk(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), "clerk1")


def upload(client: FlaskClient, name: str, data: bytes, token: str | None = None
           ) -> tuple[int, dict[str, Any]]:
    """What intake.js does: the file as the body, its name in a header, the CSRF token."""
    response = client.post(
        "/intake/upload", data=data,
        headers={"X-CSRFToken": token or csrf_token(client, "/intake/"),
                 "X-File-Name": quote(name), "Content-Type": "application/octet-stream",
                 "Accept": "application/json"})
    return response.status_code, response.get_json(silent=True) or {}


def progress(client: FlaskClient, *ids: int) -> list[dict[str, Any]]:
    response = client.get("/intake/progress", query_string={"ids": ",".join(map(str, ids))})
    assert response.status_code == 200
    letters: list[dict[str, Any]] = response.get_json()["letters"]
    return letters


def letters_count(instance: Instance) -> int:
    with instance.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Letter)) or 0)


def leftovers(instance: Instance) -> list[Path]:
    folder = instance.home / intake.UPLOAD_DIR
    return list(folder.iterdir()) if folder.exists() else []


def scan_bytes(tmp_path: Path, which: int = 0, fmt: str = "jpg") -> bytes:
    name, phone, place, matter = LETTERS[which]
    return draw(tmp_path, name, phone, place, matter, fmt=fmt, seed=40 + which).read_bytes()


@pytest.mark.slow
def test_an_upload_is_stored_read_indexed_and_found(app: Flask, instance: Instance,
                                                    tmp_path: Path) -> None:
    c = clerk(app)
    data = scan_bytes(tmp_path)
    status, received = upload(c, "../../etc/扫描 0001.jpg", data)
    assert status == 200, received
    letter_id = received["letter_id"]
    assert received["error"] is None and received["duplicate_of"] is None
    assert received["reg_no"] and received["task_id"]
    assert received["file"] == "扫描 0001.jpg"  # the client's path is gone, its name is shown
    assert received["review_url"] == f"/review/letters/{letter_id}"
    [queued] = progress(c, letter_id)
    assert (queued["state"], queued["done"]) == ("stored", False)
    assert "排队" in queued["label"]
    assert leftovers(instance) == []

    worker = Worker(app.extensions["huiyin"], "test-worker")
    assert worker.run_once() is True
    assert worker.run_once() is False  # nothing else queued

    [done] = progress(c, letter_id)
    assert (done["state"], done["done"], done["pages"]) == ("indexed", True, 1)
    assert done["error"] is None and "可检索" in done["label"]
    with instance.db.session() as s:
        task = s.get(Task, received["task_id"])
        assert task is not None and task.state == "done"
        assert task.progress == {"step": "indexed", "page": 1, "pages": 1}
        letter = s.get(Letter, letter_id)
        assert letter is not None and letter.source_name == "扫描 0001.jpg"
        assert letter.ingest_state == "indexed"
    hits = app.extensions["huiyin"].index.search(LETTERS[0][1])
    assert [h.letter_id for h in hits.hits] == [letter_id]

    status, again = upload(c, "again.jpg", data)
    assert status == 200
    assert again["duplicate_of"] == letter_id and again["letter_id"] is None
    assert again["reg_no"] == received["reg_no"] and again["task_id"] is None
    assert letters_count(instance) == 1
    assert leftovers(instance) == []


@pytest.mark.slow
def test_progress_reports_each_page_of_a_scanner_pdf(app: Flask, instance: Instance,
                                                     tmp_path: Path) -> None:
    from ocr import synthetic

    pages = [synthetic.render_scan(["第一页：尊敬的领导，", "我叫祁宝山。"], seed=61),
             synthetic.render_scan(["第二页：请求领导帮忙。", "信访人：祁宝山"], seed=62)]
    synthetic.save_pdf(pages, tmp_path / "two.pdf")
    c = clerk(app)
    _, received = upload(c, "two.pdf", (tmp_path / "two.pdf").read_bytes())
    seen: list[tuple[int, int]] = []
    worker = Worker(app.extensions["huiyin"], "test-worker")
    original = worker._report

    def watch(task: Any, **values: Any) -> None:
        original(task, **values)
        [now] = progress(c, received["letter_id"])
        if values.get("step") == "ocr":
            assert now["state"] == "ocr" and now["pages"] == 2
            seen.append((now["page"], now["pages"]))

    worker._report = watch  # type: ignore[method-assign]
    assert worker.run_once()
    assert seen == [(0, 2), (1, 2), (2, 2)]
    [done] = progress(c, received["letter_id"])
    assert done["state"] == "indexed" and done["pages"] == 2


def test_a_second_upload_while_the_first_is_queued_is_the_same_letter(
        app: Flask, instance: Instance, tmp_path: Path) -> None:
    c = clerk(app)
    data = scan_bytes(tmp_path, 1, "png")
    _, first = upload(c, "a.png", data)
    status, second = upload(c, "b.png", data)
    assert status == 200
    assert second["duplicate_of"] == first["letter_id"] and second["letter_id"] is None
    assert second["task_id"] == first["task_id"]  # one task reads it, not two
    assert letters_count(instance) == 1
    assert leftovers(instance) == []


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.pdf", b"", "文件是空的"),
    ("note.jpg", "这不是扫描件，是一段文字。\n第二行。".encode(), "扩展名 .jpg"),
    ("reply.pdf", _docx(), "Word"),
])
def test_refused_files_get_their_message_and_leave_nothing(
        app: Flask, instance: Instance, name: str, data: bytes, message: str) -> None:
    status, received = upload(clerk(app), name, data)
    assert status == 422
    assert message in received["error"], received["error"]
    assert received["letter_id"] is None and received["task_id"] is None
    assert letters_count(instance) == 0
    assert leftovers(instance) == []


def test_a_file_over_the_limit_is_refused(app: Flask, instance: Instance,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "MAX_BYTES", 1000)
    status, received = upload(clerk(app), "big.pdf", b"%PDF-1.4\n" + b"0" * 5000)
    assert status == 422 and "上限" in received["error"]
    assert letters_count(instance) == 0 and leftovers(instance) == []
    # a stream that does not say its length is cut off while it is copied
    streamed = intake.receive(instance, "big.pdf", io.BytesIO(b"%PDF-1.4\n" + b"0" * 5000),
                              actor="clerk1")
    assert streamed.error is not None and "上限" in streamed.error
    assert letters_count(instance) == 0 and leftovers(instance) == []


@pytest.mark.parametrize("username", ["handler1", "leader1", "admin1"])
def test_only_clerks_may_upload(app: Flask, instance: Instance, username: str,
                                tmp_path: Path) -> None:
    c = sign_in(app.test_client(), username)
    assert c.get("/intake/").status_code == 403
    token = csrf_token(c, "/dashboard/")
    status, _ = upload(c, "x.jpg", scan_bytes(tmp_path), token=token)
    assert status == 403
    assert c.get("/intake/progress?ids=1").status_code == 403
    assert letters_count(instance) == 0


def test_a_stranger_is_sent_to_sign_in(app: Flask, instance: Instance, tmp_path: Path) -> None:
    c = app.test_client()
    page = c.get("/intake/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    status, _ = upload(c, "x.jpg", scan_bytes(tmp_path), token=csrf_token(c, "/login"))
    assert status in (302, 401)
    assert letters_count(instance) == 0


def test_an_upload_without_the_csrf_token_is_refused(app: Flask, instance: Instance,
                                                     tmp_path: Path) -> None:
    response = clerk(app).post("/intake/upload", data=scan_bytes(tmp_path),
                               headers={"X-File-Name": "x.jpg",
                                        "Content-Type": "application/octet-stream"})
    assert response.status_code == 400
    assert letters_count(instance) == 0


def test_the_page_has_the_drop_zone_and_the_watched_folder(app: Flask,
                                                           instance: Instance) -> None:
    done = instance.home / "intake" / "done"
    failed = instance.home / "intake" / "failed"
    done.mkdir(parents=True)
    failed.mkdir(parents=True)
    (done / "scan-0001.pdf").write_bytes(b"%PDF")
    (failed / "scan-0002.jpg").write_bytes(b"x")
    (failed / "scan-0002.jpg.reason.txt").write_text(
        "2026-11-24 09:00  scan-0002.jpg\n不是扫描件\n", encoding="utf-8")
    html = clerk(app).get("/intake/").get_data(as_text=True)
    assert 'id="drop"' in html and 'type="file" multiple' in html
    assert 'data-upload="/intake/upload"' in html and "intake.js" in html
    # without JavaScript the same picker is a form posting the files (answered with a 303)
    assert ('<form method="post" action="/intake/upload" enctype="multipart/form-data">'
            in html and 'name="file" type="file" multiple' in html and "<noscript>" in html)
    assert str(instance.home / "intake") in html
    assert "scan-0001.pdf" in html and "scan-0002.jpg" in html and "不是扫描件" in html
    assert "reason.txt" not in html
    assert 'style="' not in html and "onclick" not in html  # the CSP allows neither


def test_progress_ignores_junk_and_unknown_ids(app: Flask, instance: Instance) -> None:
    c = clerk(app)
    assert c.get("/intake/progress?ids=abc,,-1,99999").get_json() == {"letters": []}


@pytest.mark.parametrize(("sent", "shown"), [
    ("C:\\Users\\clerk\\Desktop\\来信.pdf", "来信.pdf"),
    ("../../.bashrc", "bashrc"),
    ("a\x00b\nc.jpg", "abc.jpg"),
    ("", "未命名文件"),
    ("x" * 300 + ".pdf", "x" * 120),
])
def test_client_file_names_are_only_shown_never_used(sent: str, shown: str) -> None:
    assert intake.display_name(sent) == shown
