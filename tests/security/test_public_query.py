"""The public query page (§21 ¶2): no personal data, no other matter, no guessing, no forgery.

A stranger with a matter's code sees that matter's number, stage, deadline and delivered
documents; the letter behind it is full of personal data (and a script) that must not appear.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records import Case, query_codes
from tests.security.office import SCRIPT
from tests.security.served import served
from tests.web.public_matters import ID_NUMBER, NAME, OFFICIAL, PHONE, TEXT, Matter, make_matter
from tests.web.signin import add_users, csrf_token
from web.app import create_app
from web.services.instance import Instance


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("public") / "instance"
    with Instance(home) as instance:
        instance.create()
    add_users(home)
    return home


@pytest.fixture(scope="module")
def matters(home: Path) -> dict[str, Matter]:
    with Instance(home) as instance:
        return {"answered": make_matter(instance, 1, answered=True, text=TEXT + SCRIPT),
                "other": make_matter(instance, 2, answered=False, name="卢振东")}


@pytest.fixture(scope="module")
def app(home: Path, matters: dict[str, Matter]) -> Flask:
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


def _stranger(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _query(client: FlaskClient, code: str) -> tuple[int, str, dict[str, str]]:
    token = csrf_token(client, "/query/")
    with client.post("/query/", data={"csrf_token": token, "code": code}) as response:
        return response.status_code, response.get_data(as_text=True), dict(response.headers)


def test_the_page_shows_its_matter_and_no_personal_data(app: Flask,
                                                        matters: dict[str, Matter]) -> None:
    mine, other = matters["answered"], matters["other"]
    status, page, headers = _query(_stranger(app, "192.0.2.1"), mine.code)
    assert status == 200 and mine.case_no in page and "已出具信访处理意见书" in page
    assert mine.doc_number is not None and mine.doc_number in page
    for secret in (NAME, NAME[0] + "*", ID_NUMBER, ID_NUMBER[:6], ID_NUMBER[-4:], PHONE,
                   PHONE[-4:], OFFICIAL, "征地补偿款", "东关村", SCRIPT, "alert(", other.case_no,
                   "卢振东", "handler1", "clerk1", "leader1", "柳林镇人民政府2"):
        assert secret not in page, secret
    assert headers["X-Robots-Tag"].startswith("noindex")
    assert re.search(r'<meta name="robots" content="noindex', page)
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    form_page = _stranger(app, "192.0.2.1").get("/query/")
    assert form_page.status_code == 200 and form_page.headers["X-Robots-Tag"].startswith("noindex")


def test_a_code_opens_its_own_matter_only(app: Flask, matters: dict[str, Matter]) -> None:
    mine, other = matters["answered"], matters["other"]
    status, page, _ = _query(_stranger(app, "192.0.2.2"), other.code)
    assert status == 200 and other.case_no in page and mine.case_no not in page
    assert mine.doc_number not in page and "还没有已送达的文书" in page
    # the code travels in the form body, never in an address a log or a history keeps
    assert other.code not in "".join(re.findall(r'(?:href|action)="([^"]*)"', page))


def test_guessed_codes_fail_and_an_address_is_stopped_after_ten(
        app: Flask, matters: dict[str, Matter]) -> None:
    guesser = _stranger(app, "192.0.2.3")
    for _ in range(10):
        status, page, _ = _query(guesser, query_codes.shown(query_codes.new_query_code()))
        assert status == 404 and "查询码不正确" in page and "XF-" not in page
    status, page, headers = _query(guesser, matters["answered"].code)  # even the right one
    assert status == 429 and "输错次数过多" in page and "以后再试" in page
    assert matters["answered"].case_no not in page and 0 < int(headers["Retry-After"]) <= 3600
    assert _query(_stranger(app, "192.0.2.4"), matters["answered"].code)[0] == 200


def test_the_evaluation_needs_the_forms_token_and_is_taken_once(
        app: Flask, home: Path, matters: dict[str, Matter]) -> None:
    client = _stranger(app, "192.0.2.5")
    code = matters["answered"].code
    forged = client.post("/query/evaluate", data={"code": code, "rating": "不满意"})
    assert forged.status_code == 400 and "CSRF" in forged.get_data(as_text=True)
    with Instance(home) as instance, instance.db.session() as session:
        case = session.get(Case, matters["answered"].case_id)
        assert case is not None and case.satisfaction is None  # the forged post changed nothing
    status, page, _ = _query(client, code)
    assert 'name="rating"' in page and "提交评价" in page
    token = csrf_token(client, "/query/")
    done = client.post("/query/evaluate", data={"csrf_token": token, "code": code,
                                                "rating": "满意", "note": "<b>谢谢</b>"})
    assert done.status_code == 200 and "感谢您的评价" in done.get_data(as_text=True)
    again = client.post("/query/evaluate", data={"csrf_token": token, "code": code,
                                                 "rating": "不满意"})
    assert again.status_code == 422 and "只评价一次" in again.get_data(as_text=True)
    with Instance(home) as instance, instance.db.session() as session:
        case = session.get(Case, matters["answered"].case_id)
        assert case is not None
        assert (case.satisfaction, case.satisfaction_way) == ("满意", "网上")


@pytest.mark.slow
def test_the_limit_holds_across_the_servers_processes(home: Path,
                                                      matters: dict[str, Matter]) -> None:
    """Two worker processes, one table: the eleventh wrong code is refused whichever answers."""
    with served(home, processes=2, threads=2) as base:
        statuses = []
        for _ in range(12):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
            with opener.open(f"{base}/query/", timeout=30) as answer:
                token = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode())
            assert token is not None
            body = urllib.parse.urlencode({"csrf_token": token.group(1), "code": "0" * 12})
            try:
                with opener.open(f"{base}/query/", body.encode(), timeout=30) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)
    assert statuses == [404] * 10 + [429] * 2
