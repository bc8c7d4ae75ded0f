"""The search page: misread letters found after the exact ones and said so, the exact-only
switch, suggestions when nothing is found, and a case or registration number that opens it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.app.views.office_data import Office, build
from tests.web.signin import sign_in
from web.app import create_app
from web.services.indexing import index_letters
from web.services.instance import Instance
from web.services.registration import register_written


@pytest.fixture
def office(home: Path) -> Office:
    built = build(home)
    with Instance(home) as instance:
        # the OCR read 欠 as its look-alike 久: "个人被久工资" is what the letter holds now
        misread = register_written(instance, channel="visit", text="我们个人被久工资八个月。",
                                   name="石秀兰", township="城关镇", actor="clerk1")
        with instance.db.session() as session:
            from records import Letter

            index_letters(instance, [session.get(Letter, misread)])
        built.letters["misread"] = misread
    return built


@pytest.fixture
def clerk(office: Office) -> FlaskClient:
    app: Flask = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    return sign_in(app.test_client(), "clerk1")


def _found(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<h2>\s*<a href="/letters/(\d+)"', page)]


def test_a_misread_letter_is_found_after_the_exact_ones_and_says_how(
        office: Office, clerk: FlaskClient) -> None:
    page = clerk.get("/search?q=被欠").get_data(as_text=True)
    assert office.letters["misread"] in _found(page)
    assert "识别可能有误" in page and "被久" in page and 'class="tolerant"' in page
    exact = clerk.get("/search?q=被欠&exact=1").get_data(as_text=True)
    assert office.letters["misread"] not in _found(exact)


def test_nothing_found_offers_what_to_try(clerk: FlaskClient) -> None:
    page = clerk.get("/search?q=被欠&exact=1").get_data(as_text=True)
    assert "没有找到符合条件的来信" in page
    assert 'class="suggestions"' in page and "件</span>" in page


def test_a_case_or_registration_number_opens_it(office: Office, clerk: FlaskClient) -> None:
    with Instance(office.home) as instance, instance.db.session() as session:
        from records import Case, Letter

        case_no = session.get(Case, office.cases["land"]).case_no  # type: ignore[union-attr]
        reg_no = session.get(Letter, office.letters["lu"]).reg_no  # type: ignore[union-attr]
    to_case = clerk.get(f"/search?q={case_no}")
    assert to_case.status_code == 302
    assert to_case.headers["Location"].endswith(f"/cases/{office.cases['land']}")
    to_letter = clerk.get(f"/search?q=%20{reg_no.lower()}%20")
    assert to_letter.headers["Location"].endswith(f"/letters/{office.letters['lu']}")


def test_a_number_a_handler_may_not_see_opens_nothing(office: Office) -> None:
    app: Flask = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    handler = sign_in(app.test_client(), "handler1")
    with Instance(office.home) as instance, instance.db.session() as session:
        from records import Case

        other = session.get(Case, office.cases["wage"]).case_no  # type: ignore[union-attr]
    assert handler.get(f"/search?q={other}").status_code == 200  # searched, not opened
