"""ID numbers and phone numbers are masked wherever many letters are listed — pages, API lists —
and in the server's log; a letter's own page shows them whole to the roles that work with them."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.privacy import mask_personal
from tests.security.office import ID_NUMBER, MASKED_ID, PHONE, TODAY, Office
from tests.web.conftest import draw
from tests.web.signin import PASSWORD

MASKED_PHONE = "138****2176"


def lists(office: Office) -> list[str]:
    """Pages that list letters or cases, each showing the hostile letter or its case."""
    w, year = office.letters["written"], TODAY.year
    return ["/", "/search?q=" + quote("征地补偿"), "/search?q=" + quote(PHONE),
            "/cases/?status=", f"/letters/{w}/person",
            f"/dashboard/rows?metric=opened&from={year}-01&to={year}-12",
            f"/dashboard/rows?metric=received&from={year}-01&to={year}-12"]


def assert_masked(text: str, where: str) -> None:
    """No whole number, except where the page repeats the user's own search text."""
    for typed in (ID_NUMBER, PHONE):
        text = text.replace(f'value="{typed}"', "").replace(f"q={typed}", "")
        text = text.replace(f'"query": "{typed}"', "")
    assert ID_NUMBER not in text, f"{where}: a whole ID number in a list"
    assert PHONE not in text, f"{where}: a whole phone number"
    assert MASKED_ID in text or MASKED_PHONE in text, f"{where}: the letter is not listed"


@pytest.mark.parametrize("username", ["leader1", "clerk1", "handler1"])
def test_lists_mask_id_and_phone_numbers(office: Office, username: str,
                                         signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in(username)
    for url in lists(office):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_masked(response.get_data(as_text=True), url)


def test_a_letters_own_page_shows_the_numbers_to_a_clerk_and_masks_them_for_a_handler(
        office: Office, signed_in: Callable[[str], FlaskClient]) -> None:
    url = f"/letters/{office.letters['written']}"
    assert ID_NUMBER in signed_in("clerk1").get(url).get_data(as_text=True)
    page = signed_in("handler1").get(url).get_data(as_text=True)
    assert ID_NUMBER not in page and MASKED_ID in page


def test_api_lists_mask_id_and_phone_numbers(office: Office, app: Flask,
                                            api_token: Callable[[str], dict[str, str]]) -> None:
    headers = api_token("leader1")
    client = app.test_client()
    for url in ("/api/v1/letters", "/api/v1/cases", f"/api/v1/search?q={PHONE}",
                f"/api/v1/cases/{office.cases['mine']}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert_masked(json.dumps(response.get_json(), ensure_ascii=False), url)


def test_the_web_processes_log_lines_are_masked(app: Flask,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """What the app logs (gunicorn's error log prints it), tracebacks included."""
    import logging

    with caplog.at_level(logging.INFO):
        app.logger.error("upload %s failed", f"{ID_NUMBER}-{PHONE}.png")
        try:
            raise ValueError(f"no letter from {ID_NUMBER}")
        except ValueError:
            app.logger.exception("reading failed for %s", PHONE)
        logging.getLogger("huiyin.worker").info("ingest %s.png", ID_NUMBER)
    assert caplog.text.count(MASKED_ID) == 3 and MASKED_PHONE in caplog.text
    assert ID_NUMBER not in caplog.text and PHONE not in caplog.text


def test_the_masks() -> None:
    text = f"身份证{ID_NUMBER}，电话{PHONE}，座机0371-63333333，编号2026000001，" \
           f"<mark>{PHONE[:5]}</mark>{PHONE[5:]}"
    masked = mask_personal(text)
    assert masked == (f"身份证{MASKED_ID}，电话{MASKED_PHONE}，座机0371-63333333，编号2026000001，"
                      f"<mark>{MASKED_PHONE[:5]}</mark>{MASKED_PHONE[5:]}")


@pytest.mark.slow
def test_the_servers_log_masks_id_and_phone_numbers(office: Office, tmp_path: Path) -> None:
    """The real `huiyin serve`: sign in, search by the numbers, upload a scan named after them
    and let its worker read it; then the log is read for the whole numbers."""
    from web.bench.web import start_server, stop_server

    home = tmp_path / "instance"
    shutil.copytree(office.home, home)
    scan = draw(tmp_path, "韩秋菊", PHONE, "石桥镇枣树营村", "征地补偿款没有发放", fmt="png",
                seed=11, id_number=ID_NUMBER)
    log = tmp_path / "serve.log"
    process, url = start_server(home, log)
    try:
        token = _call(f"{url}/api/v1/token", {"username": "clerk1", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token['token']}"}
        _call(f"{url}/api/v1/token", {"username": ID_NUMBER, "password": PHONE})
        for query in (ID_NUMBER, PHONE):
            _call(f"{url}/api/v1/search?q={query}", headers=headers)
        uploaded = _call(f"{url}/api/v1/letters?name={ID_NUMBER}-{PHONE}.png",
                         scan.read_bytes(), headers=headers)
        ids = f"{office.letters['uploaded']},{uploaded['letter_id']}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # both uploads read by the server's worker
            progress = _call(f"{url}/api/v1/intake/progress?ids={ids}", headers=headers)
            if all(p["done"] for p in progress["letters"]):
                break
            time.sleep(0.5)
        assert all(p["done"] for p in progress["letters"]), progress
    finally:
        stop_server(process)
    text = log.read_text(errors="replace")
    assert "huiyin.worker ingest" in text, f"the worker logged no ingest:\n{text[-2000:]}"
    assert ID_NUMBER not in text, f"a whole ID number in the log:\n{text[-2000:]}"
    assert PHONE not in text, f"a whole phone number in the log:\n{text[-2000:]}"
    assert MASKED_ID in text  # the line is there, masked


def _call(url: str, body: object = None, *, headers: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    data = body if isinstance(body, bytes) else (
        json.dumps(body).encode() if body is not None else None)
    kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
    request = urllib.request.Request(url, data=data, headers={
        **(headers or {}), "Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except urllib.error.HTTPError as e:
        return {"status": e.code}
