"""Two clerks on the same letter: the second save is refused and shows the first one's change
(what they wrote, who, which version), keeps the second clerk's own input, and stores nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Letter, Page, User
from tests.web.app.views.review_data import CATEGORY, Reviewable, build, copy, letter_version
from tests.web.conftest import Scan
from tests.web.signin import PASSWORD, csrf_token, sign_in
from web.app import create_app
from web.services.access import hash_password
from web.services.instance import Instance

pytestmark = pytest.mark.slow  # the template instance is OCR'd once (a few seconds)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, scans: list[Scan]) -> Reviewable:
    office = build(tmp_path_factory.mktemp("stale") / "instance", scans)
    with Instance(office.home) as instance, instance.db.session() as session:
        session.add(User(username="clerk2", display_name="clerk2", role="clerk",
                         password_hash=hash_password(PASSWORD)))
    return office


@pytest.fixture
def office(template: Reviewable, tmp_path: Path) -> Reviewable:
    return copy(template, tmp_path)


@pytest.fixture
def app(office: Reviewable) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    yield app
    app.extensions["huiyin"].close()


def _form(office: Reviewable, summary: str, township: str) -> dict[str, str]:
    scan = office.jpeg_scan
    return {"p0_name": scan.name, "p0_id_number": scan.id_number, "p0_phone": scan.phone,
            "p0_address": "", "p1_name": "", "p1_id_number": "", "p1_phone": "",
            "p1_address": "", "township": township, "village": "", "category": CATEGORY,
            "summary": summary, "case": "new"}


def _save(client: FlaskClient, letter_id: int, form: dict[str, str], version: int) -> object:
    token = csrf_token(client, f"/review/letters/{letter_id}")
    return client.post(f"/review/letters/{letter_id}",
                       data={**form, "csrf_token": token, "version": str(version)})


def test_second_registration_save_shows_the_first_clerks_change(app: Flask,
                                                                office: Reviewable) -> None:
    first = sign_in(app.test_client(), "clerk1")
    second = sign_in(app.test_client(), "clerk2")
    seen = letter_version(office.home, office.jpeg)  # both open the letter at this version
    saved = _save(first, office.jpeg, _form(office, "补偿款只发了一半，甲已核对", "石桥镇"), seen)
    assert saved.status_code in (302, 303)
    refused = _save(second, office.jpeg, _form(office, "乙填写的摘要：电梯停运", "城关镇"), seen)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "已被 clerk1 修改" in html
    assert "补偿款只发了一半，甲已核对" in html and "石桥镇" in html  # the other's change
    shown = re.search(r"对方的修改（第 (\d+) 版", html)
    assert shown and int(shown.group(1)) == letter_version(office.home, office.jpeg) > seen
    assert "乙填写的摘要：电梯停运" in html  # the second clerk's own input is kept in the form
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, office.jpeg)
        assert letter is not None and letter.summary == "补偿款只发了一半，甲已核对"
        assert letter.reviewed_by == "clerk1"


def test_second_line_edit_shows_the_first_clerks_line(app: Flask, office: Reviewable) -> None:
    first = sign_in(app.test_client(), "clerk1")
    second = sign_in(app.test_client(), "clerk2")
    with Instance(office.home) as instance, instance.db.session() as session:
        page = session.scalars(select(Page).where(Page.letter_id == office.jpeg)).one()
        page_id, before = page.id, [line["text"] for line in page.lines]
    seen = letter_version(office.home, office.jpeg)

    def edit(client: FlaskClient, line: int, text: str) -> object:
        token = csrf_token(client, f"/review/letters/{office.jpeg}")
        return client.post(f"/review/letters/{office.jpeg}/lines", data={
            "page_id": page_id, "line": line, "text": text, "version": seen,
            "csrf_token": token})

    assert edit(first, 0, "尊敬的县信访局甲改过的称呼：").status_code in (200, 302, 303)
    refused = edit(second, 1, "乙改的第二行")
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "尊敬的县信访局甲改过的称呼：" in html  # the page shows the line as the other left it
    assert "clerk1" in html and "乙改的第二行" in html  # who, and what was not saved
    with Instance(office.home) as instance, instance.db.session() as session:
        page = session.get(Page, page_id)
        assert page is not None
        assert [line["text"] for line in page.lines][1] == before[1]
