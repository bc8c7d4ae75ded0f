"""SQL injection through every filter of every list: each classic payload must give exactly what
an honest value that matches nothing gives (same status, same letters and cases), never a 500;
and afterwards the database holds what it held."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from records import AuditEvent, Case, Letter, User
from tests.security.office import TODAY

PAYLOADS = (
    "' OR '1'='1", "' OR 1=1 --", '" OR ""="', "1' ; DROP TABLE letter; --", "') OR ('1'='1",
    "1 UNION SELECT username, password_hash FROM \"user\" --", "%' OR '%'='", "%", "_", "*",
    "\\", "'; UPDATE \"user\" SET role='admin' --", "1 AND 1=1", "' || (SELECT 1) || '",
    "石桥镇' OR '1'='1", "1)) OR 1=1 --", "'--", "\" OR 1=1 #", "1;SELECT pg_sleep(5)",
    "' AND randomblob(100000000) AND '", "?", ":township", "%s", "$1", "' OR ''='", "[]",
    "x'; ATTACH DATABASE '/tmp/huiyin-pwn.db' AS pwn; --",
)
HONEST = "zzzz9"  # a value of the same kind that matches nothing

YEAR = TODAY.year
# (list, base query, the filters it takes) — every filter of every list, pages and API.
LISTS: list[tuple[str, dict[str, str], tuple[str, ...]]] = [
    ("/", {}, ("state", "reviewed", "township", "category", "caseless", "page")),
    ("/search", {"q": "征地"}, ("township", "category", "status", "unit", "from", "to", "sort",
                               "page")),
    ("/cases/", {}, ("status", "unit", "township", "due", "flag", "page")),
    ("/dashboard/rows", {"metric": "opened", "from": f"{YEAR}-01", "to": f"{YEAR}-12"},
     ("unit", "lead", "township", "month", "page", "year")),
    ("/dashboard/rows", {"metric": "rate", "key": "bypass", "part": "denominator"},
     ("key", "part", "from", "to", "metric")),
    ("/dashboard/", {}, ("year", "from", "to")),
    ("/api/v1/letters", {}, ("state", "page")),
    ("/api/v1/cases", {}, ("status", "page")),
    ("/api/v1/search", {"q": "征地"}, ("township", "category", "status", "unit", "from", "to",
                                      "sort", "limit")),
]


def _found(status: int, body: bytes) -> tuple[int, frozenset[str]]:
    """What a list answered: its status and the letters and cases it shows."""
    text = body.decode(errors="replace")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        ids = {f"{k}:{v}" for k, v in _pairs(data) if k in ("letter_id", "case_id")}
    else:
        ids = {f"{m.group(1)}:{m.group(2)}" for m in
               re.finditer(r'href="/(letters|cases)/(\d+)"', text)}
    return status, frozenset(ids)


def _pairs(data: object) -> list[tuple[str, object]]:
    if isinstance(data, dict):
        return [(k, v) for k, v in data.items()] + [p for v in data.values() for p in _pairs(v)]
    if isinstance(data, list):
        return [p for v in data for p in _pairs(v)]
    return []


def _census(app: Flask) -> tuple[int, ...]:
    with app.extensions["huiyin"].db.session() as session:
        return (session.scalar(select(func.count()).select_from(Letter)) or 0,
                session.scalar(select(func.count()).select_from(Case)) or 0,
                session.scalar(select(func.count()).select_from(User)) or 0,
                session.scalar(select(func.count()).select_from(User).where(
                    User.role == "admin")) or 0)


@pytest.mark.slow
@pytest.mark.parametrize("username", ["leader1", "handler1"])
def test_every_filter_treats_sql_as_a_plain_value(
        app: Flask, username: str, signed_in: Callable[[str], FlaskClient],
        api_token: Callable[[str], dict[str, str]]) -> None:
    client, headers = signed_in(username), api_token(username)
    census = _census(app)
    wrong, tried = [], 0
    for path, base, filters in LISTS:
        kind = headers if path.startswith("/api/") else {}
        for name in filters:
            honest = client.get(f"{path}?{urlencode({**base, name: HONEST})}", headers=kind)
            expected = _found(honest.status_code, honest.get_data())
            assert expected[0] < 500, (path, name)
            for payload in PAYLOADS:
                url = f"{path}?{urlencode({**base, name: payload})}"
                response = client.get(url, headers=kind)
                tried += 1
                got = _found(response.status_code, response.get_data())
                if got != expected:
                    wrong.append(f"{path} {name}={payload!r}: {got} instead of {expected}")
    assert tried >= 1000
    assert not wrong, "\n".join(wrong[:40])
    assert _census(app) == census  # nothing dropped, added or promoted


def test_the_search_text_is_words_not_sql(app: Flask,
                                          signed_in: Callable[[str], FlaskClient]) -> None:
    """As the search box's text, a payload finds what its words find (punctuation only
    separates words): here, no letter says 'OR' or 'DROP', so nothing at all."""
    client = signed_in("leader1")
    everything = _found(200, client.get("/?state=").get_data())[1]
    assert everything, "the office has letters"
    for payload in PAYLOADS:
        response = client.get("/search?" + urlencode({"q": payload}))
        assert response.status_code == 200, payload
        shown = _found(200, response.get_data())[1]
        assert not {i for i in shown if i.startswith("letters:")} >= {
            i for i in everything if i.startswith("letters:")}, f"{payload!r} found everything"


def test_the_audit_log_records_a_payload_as_text(app: Flask,
                                                  signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("clerk1")
    payload = "'); DELETE FROM audit_event; --"
    assert client.get("/search?" + urlencode({"q": payload})).status_code == 200
    with app.extensions["huiyin"].db.session() as session:
        last = session.scalars(select(AuditEvent).where(AuditEvent.action == "search")
                               .order_by(AuditEvent.id.desc()).limit(1)).one()
        assert last.detail["query"] == payload
