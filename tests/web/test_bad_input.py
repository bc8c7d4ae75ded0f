"""The bad-input corpus (tests/fixtures/bad) through every door Huiyin has.

Doors: the web upload /intake/upload as a browser's form sends it (multipart/form-data), the
API POST /api/v1/letters (raw body), `huiyin ingest` on the command line, and the watched
intake folder (a representative subset). For every kind: its specific message, never a 500,
the server still answering afterwards, a refused file leaving no letter and no blob, a damaged
scan kept as a failed letter with its original, and no temporary file left in the instance
folder or in the private TMPDIR this test process is given.
"""

from __future__ import annotations

import http.client
import io
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Letter
from tests.fixtures.bad import KEPT, KINDS, Kind, by_name
from tests.web.signin import PASSWORD, add_users, csrf_token, sign_in
from web.app import create_app
from web.cli import main
from web.services import intake
from web.services.instance import Instance
from web.worker import Worker

IDS = [k.name for k in KINDS]
MB = 1 << 20


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind's file, made once for the module."""
    folder = tmp_path_factory.mktemp("bad")
    return {k.name: k.make(folder / k.name) for k in KINDS}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A created instance with one user per role, copied for each test."""
    home = tmp_path_factory.mktemp("template") / "instance"
    with Instance(home) as instance:
        instance.create()
    add_users(home)
    return home


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TMPDIR of this process for the test; it must be empty at the end."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert [p.name for p in folder.iterdir() if not _onnxruntime_session_stamp(p)] == []


def _onnxruntime_session_stamp(path: Path) -> bool:
    """onnxruntime's telemetry SDK writes $TMPDIR/.ses (a time and a UUID) at its first
    session: not an upload, and the same 51 bytes whatever was read."""
    return path.name == ".ses" and re.fullmatch(
        r"\d{13}\n[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\n", path.read_text()) is not None


@pytest.fixture
def office(template: Path, tmp_path: Path, private_tmp: Path) -> Iterator[Instance]:
    home = tmp_path / "instance"
    shutil.copytree(template, home)
    instance = Instance(home)
    yield instance
    instance.close()


@pytest.fixture
def app(office: Instance) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


# ---------------------------------------------------------------- the doors


def form_body(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """multipart/form-data as a browser writes it: the file name raw in UTF-8, only CR, LF and
    the double quote escaped (the HTML standard), so control characters arrive as sent."""
    boundary = "----HuiyinBadInput7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                  f"{value}\r\n".encode())
    for file_name, data in files:
        escaped = browser_escaped(file_name)
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                  f'filename="{escaped}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                  .encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def browser_escaped(file_name: str) -> str:
    return file_name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def clerk(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), "clerk1")


def web_upload(client: FlaskClient, name: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """The form's way: the CSRF token as a form field, the file as a part."""
    body, content_type = form_body({"csrf_token": csrf_token(client, "/intake/")},
                                   [(name, data)])
    response = client.post("/intake/upload", data=body, content_type=content_type,
                           headers={"Accept": "application/json"})
    assert response.status_code != 500
    document = response.get_json(silent=True) or {}
    if "results" in document:
        [document] = document["results"]
    return response.status_code, document


def api_headers(client: FlaskClient) -> dict[str, str]:
    response = client.post("/api/v1/token", json={"username": "clerk1", "password": PASSWORD})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def api_upload(client: FlaskClient, name: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """A program's way: the scan as the raw body, its name in ?name=."""
    response = client.post("/api/v1/letters", query_string={"name": name}, data=data,
                           headers={**api_headers(client),
                                    "Content-Type": "application/octet-stream"})
    assert response.status_code != 500
    return response.status_code, response.get_json(silent=True) or {}


def cli_ingest(home: Path, path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["--home", str(home), "ingest", str(path), "--json"],
                                catch_exceptions=False)
    [row] = json.loads(result.stdout)["results"]
    return result.exit_code, row


# ---------------------------------------------------------------- what must hold


def letters(instance: Instance) -> list[Letter]:
    with instance.db.session() as session:
        found = list(session.scalars(select(Letter).order_by(Letter.id)))
        session.expunge_all()
        return found


def blobs(instance: Instance) -> set[str]:
    return set(instance.blobs.digests())


def temporary_files(instance: Instance) -> list[Path]:
    """Spooled uploads, half-written blobs, files taken but never settled."""
    places = [instance.home / intake.UPLOAD_DIR, instance.blobs.root / "tmp",
              instance.home / "intake" / "processing"]
    return [p for place in places if place.is_dir() for p in place.iterdir()]


def still_answers(client: FlaskClient) -> None:
    assert client.get("/login").status_code in (200, 302)


def check_refused(instance: Instance, error: str | None, kind: Kind, message: str) -> None:
    assert error and message in error, (kind.name, error)
    assert letters(instance) == [] and blobs(instance) == set()


def check_kept(instance: Instance, error: str | None, kind: Kind) -> Letter:
    """A damaged scan: one failed letter naming the problem, its original stored intact."""
    [letter] = letters(instance)
    assert letter.ingest_state == "failed"
    assert kind.message in (letter.ingest_error or ""), letter.ingest_error
    assert error and kind.message in error and letter.reg_no in error, error
    assert blobs(instance) == {letter.source_sha256}
    assert instance.blobs.verify(letter.source_sha256)
    return letter


def check_read(instance: Instance, kind: Kind, letter_id: int) -> Letter:
    [letter] = letters(instance)
    assert letter.id == letter_id and letter.ingest_state == "indexed"
    assert blobs(instance) == {letter.source_sha256}
    if kind.text:
        assert kind.text in letter.text.replace(" ", ""), letter.text
    else:
        assert letter.text.strip() == ""
    return letter


# ---------------------------------------------------------------- every kind, every door


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_web_form_upload(kind: Kind, app: Flask, office: Instance,
                         corpus: dict[str, Path]) -> None:
    c = clerk(app)
    status, received = web_upload(c, kind.file_name, corpus[kind.name].read_bytes())
    if kind.outcome == "refused":
        assert status == 422
        check_refused(office, received["error"], kind, kind.message)
    elif kind.outcome == "kept" and not kind.at_reading:
        assert status == 422 and received["kept"] is True
        assert KEPT in received["error"]
        letter = check_kept(office, received["error"], kind)
        assert received["letter_id"] == letter.id and received["task_id"] is None
    else:
        assert status == 200 and received["error"] is None, received
        assert received["file"] == intake.display_name(browser_escaped(kind.file_name))
        assert received["file"].isprintable()
        assert Worker(office, "bad-input").run_once()
        [shown] = c.get(f"/intake/progress?ids={received['letter_id']}").get_json()["letters"]
        if kind.outcome == "kept":
            assert shown["state"] == "failed" and KEPT in shown["error"]
            check_kept(office, shown["error"], kind)
        else:
            assert shown["state"] == "indexed"
            assert kind.message in shown["label"], shown
            letter = check_read(office, kind, received["letter_id"])
            assert letter.source_name == received["file"]
    if kind.name == "path-traversal-name":  # nothing written where the name points
        spool = office.home / intake.UPLOAD_DIR
        assert not any((spool / up).resolve().exists() for up in
                       ("../escaped-来信.png", "../../escaped-来信.png",
                        "../../../escaped-来信.png"))
    assert temporary_files(office) == []
    still_answers(c)


@pytest.mark.parametrize("kind", [k for k in KINDS if "api" in k.doors], ids=lambda k: k.name)
def test_api_upload(kind: Kind, app: Flask, office: Instance, corpus: dict[str, Path]) -> None:
    c = app.test_client()
    status, received = api_upload(c, kind.file_name, corpus[kind.name].read_bytes())
    if kind.outcome == "refused":
        assert status == 422
        check_refused(office, received["error"], kind, kind.message)
    elif kind.outcome == "kept" and not kind.at_reading:
        assert status == 422 and received["kept"] is True
        check_kept(office, received["error"], kind)
    else:  # registered and queued; the web test above has the worker read the same files
        assert status == 201 and received["error"] is None, received
        assert received["letter_id"] and received["task_id"]
        [letter] = letters(office)
        assert letter.ingest_state == "stored" and blobs(office) == {letter.source_sha256}
        assert "/" not in received["file"] and "\n" not in received["file"]
    assert temporary_files(office) == []
    still_answers(c)


@pytest.mark.parametrize("kind", [k for k in KINDS if "cli" in k.doors], ids=lambda k: k.name)
def test_cli_ingest(kind: Kind, office: Instance, corpus: dict[str, Path]) -> None:
    code, row = cli_ingest(office.home, corpus[kind.name])
    message = kind.cli_message or kind.message
    if kind.outcome == "refused":
        assert code == 1
        check_refused(office, row["error"], kind, message)
    elif kind.outcome == "kept":
        assert code == 1 and row["letter_id"]
        assert "original kept as letter" in row["error"]
        check_kept(office, row["error"], kind)
    else:
        assert code == 0 and row["error"] is None, row
        check_read(office, kind, row["letter_id"])
        if kind.cli_message:
            assert kind.cli_message in (row["warning"] or "")
    assert all(c.isprintable() for c in row["file"]), row["file"]
    assert temporary_files(office) == []


FOLDER_KINDS = ("docx-renamed-pdf", "heic", "exe", "png-bomb", "pdf-500-pages",
                "pdf-javascript", "encrypted-pdf", "truncated-jpeg", "text-pdf",
                "control-characters-name")


def test_watched_folder_takes_a_representative_subset(office: Instance,
                                                      corpus: dict[str, Path]) -> None:
    root = intake.intake_folder(office)
    root.mkdir(parents=True, exist_ok=True)
    kinds = [by_name(name) for name in FOLDER_KINDS]
    for kind in kinds:
        shutil.copy(corpus[kind.name], root / kind.file_name)
    counts = Worker(office, "bad-input-folder", poll_s=0.05).drain(settle_s=0.05)
    assert counts["done"] + counts["failed"] >= len(kinds)
    done, failed = root / "done", root / "failed"
    for kind in kinds:
        shown = intake.display_name(kind.file_name)
        if kind.outcome == "read":
            assert (done / shown).is_file(), kind.name
            assert not (done / f"{shown}.reason.txt").exists()
        else:
            assert (failed / shown).is_file(), kind.name
            reason = (failed / f"{shown}.reason.txt").read_text(encoding="utf-8")
            assert kind.message in reason, (kind.name, reason)
            assert kind.outcome == "refused" or KEPT in reason
    states = sorted((x.source_name, x.ingest_state) for x in letters(office))
    expected = sorted([(intake.display_name(k.file_name), "failed") for k in kinds
                       if k.outcome == "kept"]
                      + [(intake.display_name(k.file_name), "indexed") for k in kinds
                         if k.outcome == "read"])
    assert states == expected
    assert [p.name for p in root.iterdir() if p.is_file()] == []  # nothing left waiting
    assert temporary_files(office) == []


# ---------------------------------------------------------------- the request kinds


def test_same_file_twice_is_one_letter(app: Flask, office: Instance,
                                       corpus: dict[str, Path]) -> None:
    data = corpus["text-pdf"].read_bytes()
    c = clerk(app)
    _, first = web_upload(c, "letter.pdf", data)
    status, again = api_upload(c, "again.pdf", data)
    assert status == 201 and again["duplicate_of"] == first["letter_id"]
    assert again["letter_id"] is None and again["task_id"] == first["task_id"]
    assert Worker(office, "bad-input").run_once()
    code, row = cli_ingest(office.home, corpus["text-pdf"])
    assert code == 0 and row["duplicate_of"] == first["letter_id"] and row["letter_id"] is None
    status, third = web_upload(c, "third.pdf", data)
    assert status == 200 and third["duplicate_of"] == first["letter_id"]
    assert len(letters(office)) == 1 and len(blobs(office)) == 1
    assert temporary_files(office) == []


class Zeros(io.RawIOBase):
    """A request body of ``size`` zero bytes, made as it is read; counts what was read."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.consumed = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = offset if whence == io.SEEK_SET else self.size + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = bytes(n)
        self.position += n
        self.consumed += n
        return n


def test_over_the_limit_declared_is_refused_before_reading(app: Flask, office: Instance) -> None:
    too_big = intake.MAX_BYTES + 1
    c = clerk(app)
    token = csrf_token(c, "/intake/")
    for door in ("web-raw", "web-form", "api"):
        body = Zeros(too_big)
        if door == "api":
            response = c.post("/api/v1/letters?name=big.pdf", input_stream=body,
                              headers={**api_headers(c), "Content-Type": "application/pdf"})
        else:
            form = door == "web-form"
            response = c.post(
                "/intake/upload", input_stream=body,
                headers={"X-CSRFToken": token, "X-File-Name": "big.pdf", "Accept":
                         "application/json", "Content-Type": "multipart/form-data; boundary=x"
                         if form else "application/octet-stream"})
        assert response.status_code in (413, 422), (door, response.status_code)
        assert "文件超过 200 MB 上限" in response.get_json()["error"], door
        assert body.consumed < MB, (door, body.consumed)
    assert letters(office) == [] and temporary_files(office) == []
    still_answers(c)


@pytest.mark.slow
def test_over_the_limit_streamed_is_cut_off_on_disk_not_in_memory(app: Flask,
                                                                   office: Instance) -> None:
    c = clerk(app)
    token = csrf_token(c, "/intake/")
    headers = api_headers(c)
    for door in ("web", "api"):
        body = Zeros(intake.MAX_BYTES + 8 * MB)
        tracemalloc.start()
        try:
            response = c.post(
                "/intake/upload" if door == "web" else "/api/v1/letters?name=big.pdf",
                input_stream=body, environ_overrides={"wsgi.input_terminated": True},
                headers={"X-CSRFToken": token, "X-File-Name": "big.pdf",
                         "Accept": "application/json", "Content-Type": "application/pdf",
                         "Transfer-Encoding": "chunked", **(headers if door == "api" else {})})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.status_code == 413, door
        assert "文件超过 200 MB 上限" in response.get_json()["error"]
        assert intake.MAX_BYTES <= body.consumed <= intake.MAX_BYTES + 2 * MB
        assert peak < 32 * MB, (door, peak)
    assert letters(office) == [] and temporary_files(office) == []
    still_answers(c)


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", b"--x\r\nnot really\r\n"),  # no boundary at all
    # a part never closed: Werkzeug 3.1 drops that part's SpooledTemporaryFile unclosed (in
    # memory under 500 kB, else an unnamed temporary file) and the garbage collector warns
    pytest.param("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: "
                 b'form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 cut off here',
                 marks=pytest.mark.filterwarnings(
                     "ignore::pytest.PytestUnraisableExceptionWarning")),
    ("multipart/form-data; boundary=abc", b"--abc--\r\n"),  # closed, empty
    ("multipart/form-data; boundary=abc", b"garbage without any boundary line"),
])
def test_malformed_multipart(app: Flask, office: Instance, content_type: str,
                             body: bytes) -> None:
    c = clerk(app)
    response = c.post("/intake/upload", data=body, content_type=content_type,
                      headers={"X-CSRFToken": csrf_token(c, "/intake/"),
                               "Accept": "application/json"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "上传内容中没有文件" in error or "格式错误" in error, error
    assert letters(office) == [] and temporary_files(office) == []
    still_answers(c)


def test_a_form_without_javascript_is_answered_on_the_page(app: Flask, office: Instance,
                                                          corpus: dict[str, Path]) -> None:
    c = clerk(app)
    body, content_type = form_body(
        {"csrf_token": csrf_token(c, "/intake/")},
        [("IMG_0001.HEIC", corpus["heic"].read_bytes()),
         ("encrypted.pdf", corpus["encrypted-pdf"].read_bytes())])
    response = c.post("/intake/upload", data=body, content_type=content_type)
    assert response.status_code == 303 and response.headers["Location"] == "/intake/"
    page = c.get("/intake/").get_data(as_text=True)
    assert "IMG_0001.HEIC：不是可识别的扫描件" in page and "HEIC 照片" in page
    assert "encrypted.pdf：PDF 已加密" in page and KEPT in page
    assert len(letters(office)) == 1 and temporary_files(office) == []


def test_a_form_from_a_stale_page_is_told_to_reload(app: Flask, office: Instance,
                                                   corpus: dict[str, Path]) -> None:
    c = clerk(app)
    body, content_type = form_body({"csrf_token": "stale"},
                                   [("scan.pdf", corpus["text-pdf"].read_bytes())])
    response = c.post("/intake/upload", data=body, content_type=content_type,
                      headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_json()["error"]
    assert letters(office) == [] and temporary_files(office) == []


def test_a_form_post_to_the_raw_body_api(app: Flask, office: Instance,
                                         corpus: dict[str, Path]) -> None:
    c = app.test_client()
    body, content_type = form_body({}, [("scan.png", corpus["text-pdf"].read_bytes())])
    response = c.post("/api/v1/letters", data=body, content_type=content_type,
                      headers=api_headers(c))
    assert response.status_code == 415
    assert "请把扫描件作为原始请求体发送" in response.get_json()["error"]
    assert letters(office) == [] and temporary_files(office) == []


def test_a_client_that_hangs_up_mid_upload(app: Flask, office: Instance,
                                           corpus: dict[str, Path]) -> None:
    c = clerk(app)
    sent = corpus["text-pdf"].read_bytes()[:64 * 1024]
    token = csrf_token(c, "/intake/")
    for path, headers in (("/intake/upload", {"X-CSRFToken": token, "X-File-Name": "a.pdf"}),
                          ("/api/v1/letters?name=a.pdf", api_headers(c))):
        response = c.post(path, input_stream=io.BytesIO(sent),
                          environ_overrides={"CONTENT_LENGTH": str(MB)},
                          headers={**headers, "Content-Type": "application/octet-stream",
                                   "Accept": "application/json"})
        assert response.status_code == 400, path
        error = response.get_json()["error"]
        assert "上传中断" in error, error
    assert letters(office) == [] and temporary_files(office) == []
    still_answers(c)


SCANNER_STILL_WRITING = """
import sys, time
with open(sys.argv[1], "ab") as out:
    while True:
        out.write(bytes(4096))
        out.flush()
        time.sleep(0.0002)
"""


def test_a_file_that_changes_while_it_is_ingested(office: Instance, tmp_path: Path,
                                                  corpus: dict[str, Path]) -> None:
    growing = tmp_path / "growing.jpg"
    shutil.copy(corpus["jpeg-broken-exif"], growing)
    size = growing.stat().st_size
    # a process of its own, as a scanner is: a thread would wait on this one's GIL
    writer = subprocess.Popen([sys.executable, "-c", SCANNER_STILL_WRITING, str(growing)])
    try:
        while growing.stat().st_size == size:
            time.sleep(0.01)
        code, row = cli_ingest(office.home, growing)
    finally:
        writer.terminate()
        writer.wait(timeout=10)
    assert code == 1
    assert "changed while it was being read" in row["error"], row
    assert letters(office) == [] and blobs(office) == set()
    assert temporary_files(office) == []


def test_the_watched_folder_waits_for_a_file_still_being_written(
        office: Instance, corpus: dict[str, Path]) -> None:
    root = intake.intake_folder(office)
    root.mkdir(parents=True, exist_ok=True)
    growing = root / "scan-0001.pdf"
    whole = corpus["encrypted-pdf"].read_bytes()
    growing.write_bytes(whole[:100])
    worker = Worker(office, "bad-input-folder", poll_s=0.05)
    worker.scan()  # the first look notes its size
    for start, end in ((100, 200), (200, len(whole))):  # the scanner writes between looks
        with growing.open("ab") as out:
            out.write(whole[start:end])
        assert worker.scan() == []  # changed since the last look: left alone
    assert growing.is_file() and letters(office) == []
    worker.drain(settle_s=0.05)
    assert not growing.exists() and (root / "failed" / "scan-0001.pdf").is_file()
    [letter] = letters(office)  # the complete file, kept: it is damaged only by its lock
    assert instance_original(office, letter) == whole


def instance_original(instance: Instance, letter: Letter) -> bytes:
    return instance.blobs.path(letter.source_sha256).read_bytes()


def test_every_kind_is_made_by_code_and_named_once() -> None:
    from tests.fixtures.bad import REQUEST_KINDS, table

    names = [k.name for k in (*KINDS, *REQUEST_KINDS)]
    assert len(names) == len(set(names)) >= 30
    assert {k.outcome for k in KINDS} == {"read", "kept", "refused"}
    rendered = table()
    assert all(f"| {name} (" in rendered for name in names)
    assert not list(Path(__file__).parents[1].joinpath("fixtures", "bad").rglob("*.pdf"))



# ---------------------------------------------------------------- the real server


class Http:
    """A client of the real `huiyin serve`: session cookie, CSRF token, bearer token."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def token(self, path: str) -> str:
        _, page = self.request("GET", path)
        found = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', page)
        assert found, path
        return found.group(1)

    def sign_in(self) -> None:
        form = urllib.parse.urlencode({"username": "clerk1", "password": PASSWORD,
                                       "csrf_token": self.token("/login")})
        status, _ = self.request("POST", "/login", form.encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302

    def bearer(self) -> dict[str, str]:
        status, text = self.request("POST", "/api/v1/token",
                                    json.dumps({"username": "clerk1", "password": PASSWORD})
                                    .encode(), {"Content-Type": "application/json"})
        assert status == 200
        return {"Authorization": f"Bearer {json.loads(text)['token']}"}


@pytest.fixture
def server(office: Instance, tmp_path: Path) -> Iterator[tuple[Http, Any]]:
    """`huiyin serve` on this instance, its TMPDIR the private one (set by private_tmp)."""
    from web.bench.web import start_server, stop_server

    process, url = start_server(office.home, tmp_path / "serve.log")
    try:
        yield Http(url), process
    finally:
        stop_server(process)


def hang_up(client: Http, path: str, headers: dict[str, str], declared: int, sent: bytes,
            ) -> None:
    """Start an upload declaring ``declared`` bytes, send ``sent``, and close the connection."""
    with socket.create_connection((client.host, client.port), timeout=10) as s:
        lines = [f"POST {path} HTTP/1.1", f"Host: {client.host}", f"Content-Length: {declared}",
                 "Content-Type: application/octet-stream",
                 *(f"{k}: {v}" for k, v in headers.items())]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + sent)


@pytest.mark.slow
def test_the_real_server_refuses_each_and_keeps_answering(
        server: tuple[Http, Any], office: Instance, corpus: dict[str, Path],
        private_tmp: Path) -> None:
    from web.bench.web import group_rss_mb

    client, process = server
    bearer = client.bearer()
    expected = {"docx-renamed-pdf": 422, "png-bomb": 422, "pdf-500-pages": 422,
                "pdf-javascript": 422, "encrypted-pdf": 422, "cmyk-tiff": 201}
    for name, status in expected.items():
        kind = by_name(name)
        got, text = client.request("POST", "/api/v1/letters?name="
                                   + urllib.parse.quote(kind.file_name),
                                   corpus[name].read_bytes(),
                                   {**bearer, "Content-Type": "application/octet-stream"})
        assert got == status, (name, got, text)
        assert status == 201 or kind.message in json.loads(text)["error"]
    client.sign_in()
    body, content_type = form_body({"csrf_token": client.token("/intake/")},
                                   [(by_name("heic").file_name, corpus["heic"].read_bytes())])
    got, text = client.request("POST", "/intake/upload", body,
                               {"Content-Type": content_type, "Accept": "application/json"})
    assert got == 422 and "HEIC 照片" in json.loads(text)["results"][0]["error"]
    hang_up(client, "/api/v1/letters?name=cut.pdf", bearer, 4 * MB,
            corpus["text-pdf"].read_bytes()[:32 * 1024])
    assert client.request("GET", "/login")[0] == 200  # still answering
    states = sorted(x.ingest_state for x in letters(office))
    assert len(states) == 2 and "failed" in states  # the encrypted PDF kept; the CMYK scan

    # 200 MB + 1 declared: answered at once, before the body is sent
    with socket.create_connection((client.host, client.port), timeout=10) as s:
        head = "".join(f"{k}: {v}\r\n" for k, v in bearer.items())
        s.sendall(f"POST /api/v1/letters?name=big.pdf HTTP/1.1\r\nHost: x\r\n{head}"
                  f"Content-Length: {intake.MAX_BYTES + 1}\r\n\r\n".encode())
        answer = s.recv(4096)
        while not answer.rstrip().endswith(b"}"):
            answer += s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 422"), answer[:100]
    document = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert "文件超过 200 MB 上限" in document["error"]

    # 201 MB, chunked: refused, not held in memory, nothing left on disk
    before = group_rss_mb(process.pid) or 0.0

    def chunks() -> Iterator[bytes]:
        block = bytes(MB)
        for _ in range((intake.MAX_BYTES >> 20) + 1):
            yield block

    connection = http.client.HTTPConnection(client.host, client.port, timeout=300)
    try:
        connection.request("POST", "/api/v1/letters?name=big.pdf", body=chunks(),
                           headers={**bearer, "Transfer-Encoding": "chunked",
                                    "Content-Type": "application/pdf"}, encode_chunked=True)
        response = connection.getresponse()
        status, text = response.status, response.read().decode()
    finally:
        connection.close()
    assert status in (413, 422) and "文件超过 200 MB 上限" in json.loads(text)["error"]
    assert (group_rss_mb(process.pid) or 0.0) - before < 100  # not held in memory
    assert client.request("GET", "/login")[0] == 200
    assert len(letters(office)) == 2, [(x.source_name, x.size_bytes, x.ingest_state,
                                        x.ingest_error) for x in letters(office)]
    deadline = time.monotonic() + 60
    while temporary_files(office) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert temporary_files(office) == []


def test_an_upload_waits_in_the_blob_store_not_in_tmpdir(app: Flask, office: Instance,
                                                        private_tmp: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug spools a file part past 500 kB to $TMPDIR; ours goes to the blob store's tmp/
    (the instance's disk): a missing or full /tmp does not refuse a 2 MB scan."""
    from PIL import Image

    noise = Image.frombytes("RGB", (900, 800), random.Random(1).randbytes(900 * 800 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > 1 << 20
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp / "no-such-folder"))
    status, received = web_upload(clerk(app), "大扫描.png", out.getvalue())
    assert status == 200 and received["error"] is None, received
    assert len(letters(office)) == 1
    assert list(office.blobs.tmp_dir.iterdir()) == []  # the spool went with the request
