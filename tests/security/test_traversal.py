"""Directory traversal: downloads of replies, originals' page images and static files never
serve a file outside what they name — not with ../, encoded, doubled or absolute names — and
never another unit's file; uploads never write outside the instance folder."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.office import Office

NAMES = (
    "../../secret_key", "..%2F..%2Fsecret_key", "%2e%2e%2f%2e%2e%2fsecret_key",
    "..%252F..%252Fsecret_key", "....//....//secret_key", "..\\..\\secret_key",
    "%2Fetc%2Fpasswd", "/etc/passwd", "//etc/passwd", "..%00.pdf", "docx%00../../secret_key",
    "..", "%2e%2e", ".%2e/.%2e/huiyin.db", "docx/../../../secret_key", "~root/.bashrc",
    "secret_key", "huiyin.db", "%73ecret_key",  # the instance's own files by their bare names
)


def _urls(office: Office) -> list[str]:
    """Every download route with a hostile name where a name goes."""
    r, s = office.replies["mine"], office.letters["scanned"]
    found = []
    for name in NAMES:
        found += [f"/replies/{r}/{name}", f"/api/v1/replies/{r}/files/{name}",
                  f"/static/{name}", f"/review/letters/{s}/pages/{name}",
                  f"/review/letters/{s}/pages/1.png/{name}", f"/replies/{r}/pages/{name}",
                  f"/verify/{name}"]
    return found


def _leaks(body: bytes, home: Path) -> list[str]:
    secret = (home / "secret_key").read_bytes().strip()
    found = [what for what, needle in (("the secret key", secret), ("/etc/passwd", b"root:x:0:0"),
                                       ("a SQLite file", b"SQLite format 3"))
             if needle in body]
    return found


def test_no_download_route_serves_a_file_it_does_not_name(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient],
        api_token: Callable[[str], dict[str, str]]) -> None:
    client = signed_in("leader1")
    headers = api_token("leader1")
    wrong = []
    urls = _urls(office)
    for url in urls:
        with client.get(url, headers=headers if url.startswith("/api/") else {}) as response:
            body = response.get_data()
            if response.status_code == 200 or response.status_code >= 500:
                wrong.append(f"{url} -> {response.status_code}")
            wrong += [f"{url} leaks {what}" for what in _leaks(body, office.home)]
    assert len(urls) >= 100
    assert not wrong, "\n".join(wrong)


def test_the_real_downloads_still_work(office: Office,
                                       signed_in: Callable[[str], FlaskClient]) -> None:
    """The same routes with honest names answer (so the refusals above are not just 404s
    from routes that never work)."""
    client = signed_in("leader1")
    for url in (f"/replies/{office.replies['mine']}/docx", "/static/huiyin.css",
                f"/review/letters/{office.letters['scanned']}/pages/1.png"):
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_another_units_files_are_not_served(office: Office,
                                            signed_in: Callable[[str], FlaskClient]) -> None:
    """The handler sees its unit's letters only: the other unit's scan is not found."""
    client = signed_in("handler1")
    other = office.letters["other"]
    for url in (f"/review/letters/{other}/pages/1.png", f"/letters/{other}",
                f"/replies/new/{other}?template=acknowledgement"):
        with client.get(url) as response:
            assert response.status_code == 404, url
    with client.get(f"/review/letters/{office.letters['scanned']}/pages/1.png") as response:
        assert response.status_code == 200  # its own unit's scan


@pytest.mark.parametrize("name", ["../../outside.png", "/tmp/huiyin-outside.png",
                                  "..\\..\\outside.png", "%2e%2e%2foutside.png",
                                  "sub/../../../outside.png"])
def test_an_upload_never_writes_outside_the_instance(office: Office, app: Flask,
                                                     name: str) -> None:
    from web.services.intake import receive

    instance = app.extensions["huiyin"]
    before = {p for p in office.home.parent.iterdir()}
    received = receive(instance, name, io.BytesIO(b"%PDF-1.4 not really"), actor="clerk1")
    assert received.file and "/" not in received.file and "\\" not in received.file
    assert {p for p in office.home.parent.iterdir()} == before
    assert not Path("/tmp/huiyin-outside.png").exists()
