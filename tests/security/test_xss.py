"""Stored and reflected XSS: hostile OCR text, field values, file names and search text are
shown as text on every page that shows them, never run as markup; JSON stays JSON; the
generated .docx holds the text literally (no template code runs from a value)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records import Reply
from tests.security.office import FILE_NAME, QUOTE, SCRIPT, TAG, TODAY, Office, hostile_text
from tests.web.signin import csrf_token

# Markup that would run if it reached the page unescaped (a truncated "<scr…" included).
RAW = ("<script>alert", "<img src=x", 'onfocus="alert(3)', "<scr…", "<img…", "<b>韩")
ESCAPED = ("&lt;script&gt;alert", "&lt;img src=x onerror=alert", "&lt;scr", "&lt;b&gt;韩")


def pages(office: Office) -> dict[str, list[str]]:
    """user -> the pages that show one of the hostile values."""
    w, s, u = (office.letters[k] for k in ("written", "scanned", "uploaded"))
    case, reply = office.cases["mine"], office.replies["mine"]
    year = TODAY.year
    return {
        "leader1": [
            "/", f"/letters/{w}", f"/letters/{s}", "/search?q=" + quote("征地补偿"),
            "/search?q=" + quote(SCRIPT), "/search?q=" + quote(TAG + " 征地"),
            "/cases/?status=", f"/cases/{case}", f"/letters/{w}/person",
            f"/dashboard/rows?metric=opened&from={year}-01&to={year}-12",
            f"/replies/{reply}", f"/replies/new/{w}?template=acknowledgement&from={reply}",
        ],
        "handler1": ["/", f"/letters/{w}", "/search?q=" + quote("征地补偿"), f"/cases/{case}"],
        "clerk1": ["/review/", f"/review/letters/{s}", f"/letters/{u}"],
    }


def assert_shown_as_text(page: str, where: str) -> None:
    raw = [r for r in RAW if r in page]
    assert not raw, f"{where}: markup from the records reached the page: {raw}"
    assert any(e in page for e in ESCAPED), f"{where}: the hostile value is not shown at all"


@pytest.mark.parametrize("username", ["leader1", "handler1", "clerk1"])
def test_hostile_values_are_shown_as_text_on_every_page(
        office: Office, signed_in: Callable[[str], FlaskClient], username: str) -> None:
    client = signed_in(username)
    for url in pages(office)[username]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_shown_as_text(response.get_data(as_text=True), url)


def test_a_hostile_file_name_is_shown_as_text(
        office: Office, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("clerk1")
    for url in ("/review/", f"/letters/{office.letters['uploaded']}"):
        page = client.get(url).get_data(as_text=True)
        assert "&lt;img src=x onerror=alert(4)&gt;.png" in page, url
        assert FILE_NAME not in page, url


def test_search_highlights_escape_what_they_mark(
        office: Office, signed_in: Callable[[str], FlaskClient]) -> None:
    page = signed_in("leader1").get("/search?q=" + quote("script alert")).get_data(as_text=True)
    assert "<mark>" in page, "the search found nothing to mark"
    assert "&lt;<mark>script</mark>&gt;" in page or "&lt;<mark>script" in page
    assert "<script>alert" not in page


def test_reply_form_and_preview_show_hostile_values_as_text(
        office: Office, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("leader1")
    letter_id = office.letters["written"]
    form = {"csrf_token": csrf_token(client, f"/replies/new/{letter_id}?template=acknowledgement"),
            "template": "acknowledgement", "petitioner": SCRIPT + QUOTE, "date": "not a date"}
    response = client.post(f"/replies/new/{letter_id}/preview", data=form)
    assert response.status_code == 400  # the date is refused before anything is converted
    assert_shown_as_text(response.get_data(as_text=True), "preview")


def test_error_pages_do_not_reflect_markup(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("leader1")
    for url in ("/letters/" + quote(SCRIPT), "/replies/1/" + quote(TAG),
                "/dashboard/rows?metric=" + quote(SCRIPT)):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        page = response.get_data(as_text=True)
        assert not [r for r in RAW if r in page], url


def test_api_answers_are_json_and_keep_the_text_as_it_is(
        office: Office, app: Flask, api_token: Callable[[str], dict[str, str]]) -> None:
    headers = api_token("leader1")
    client = app.test_client()
    for url in (f"/api/v1/letters/{office.letters['written']}", "/api/v1/letters",
                "/api/v1/search?q=" + quote("征地补偿"), f"/api/v1/cases/{office.cases['mine']}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response.mimetype == "application/json", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
    letter = client.get(f"/api/v1/letters/{office.letters['written']}", headers=headers)
    assert letter.get_json()["text"] == hostile_text()  # data, unchanged: escaping is the page's


def test_the_generated_docx_holds_hostile_values_literally(office: Office, app: Flask) -> None:
    instance = app.extensions["huiyin"]
    with instance.db.session() as session:
        reply = session.get(Reply, office.replies["mine"])
        assert reply is not None and reply.docx_sha256
        data = instance.blobs.path(reply.docx_sha256).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        xml = docx.read("word/document.xml").decode()
    ElementTree.fromstring(xml)  # still well-formed: the values were escaped for XML
    text = "".join(ElementTree.fromstring(xml).itertext())
    assert SCRIPT in text and TAG in text, "the hostile values are not in the document"
    assert "{{ 7*7 }}" in text and "{% if 1 %}x{% endif %}" in text, "a value ran as template"
    assert "&amp;amp;" in xml and "\u202e" in text  # an entity stays text; marks survive
    assert "<script>" not in xml
