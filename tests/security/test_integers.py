"""Numbers too large for a database column, in every route's path and in the query strings
that take a number: a clear 404 or 400, never a 500 with a traceback in the log."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.office import Office
from tests.web.signin import csrf_token

HUGE = str(2**63)
HUGER = "9" * 40

QUERIES = ("/?page={n}", "/search?q=征地&page={n}", "/cases/?page={n}", "/dashboard/?year={n}",
           "/dashboard/?page={n}", "/letters/{letter}/person?p={n}",
           "/replies/new/{letter}?from={n}", "/api/v1/letters?limit={n}&offset={n}",
           "/api/v1/cases?page={n}", "/api/v1/search?q=征地&page={n}")


def _fill(rule: str, n: str) -> str:
    rule = re.sub(r"<int:\w+>", n, rule)
    return re.sub(r"<(?:\w+:)?\w+>", "pdf", rule)


@pytest.mark.parametrize("n", [HUGE, HUGER])
def test_huge_numbers_in_paths_are_not_found(app: Flask, signed_in: Callable[[str], FlaskClient],
                                             api_token: Callable[[str], dict[str, str]],
                                             caplog: pytest.LogCaptureFixture, n: str) -> None:
    rules = [r.rule for r in app.url_map.iter_rules()
             if "GET" in (r.methods or ()) and "<int:" in r.rule]
    assert len(rules) >= 8  # letters, pages, images, cases, replies, the API's
    caplog.set_level(logging.ERROR)
    leader, admin = signed_in("leader1"), signed_in("admin1")
    headers = api_token("leader1")
    for rule in rules:
        path = _fill(rule, n)
        client = admin if rule.startswith("/admin") else leader
        answer = client.get(path, headers=headers if rule.startswith("/api/") else {})
        assert answer.status_code in (400, 404), (path, answer.status_code)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("query", QUERIES)
def test_huge_numbers_in_queries_are_refused_or_ignored(
        signed_in: Callable[[str], FlaskClient], api_token: Callable[[str], dict[str, str]],
        office: Office, caplog: pytest.LogCaptureFixture, query: str) -> None:
    caplog.set_level(logging.ERROR)
    client = signed_in("leader1")
    path = query.format(n=HUGE, letter=office.letters["written"])
    answer = client.get(path, headers=api_token("leader1") if path.startswith("/api/") else {})
    assert answer.status_code in (200, 400, 404), (path, answer.status_code)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_huge_numbers_in_a_review_form_are_refused(signed_in: Callable[[str], FlaskClient],
                                                   office: Office,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    client = signed_in("clerk1")
    letter_id = office.letters["scanned"]
    answer = client.post(f"/letters/{letter_id}/review", data={
        "csrf_token": csrf_token(client), "case": HUGE, "version": HUGE, "action": "merge"})
    assert answer.status_code < 500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
