"""CSRF: every form a page posts needs the token of the signed-in session; a forged post
changes nothing; the API ignores the session cookie altogether (bearer tokens only)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Case, User
from tests.security.office import Office
from tests.web.signin import PASSWORD, csrf_token

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _forms(app: Flask, office: Office) -> list[tuple[str, str]]:
    """(method, URL) of every state-changing route outside the API, parameters filled in."""
    instance = app.extensions["huiyin"]
    with instance.db.session() as session:
        user_id = session.scalars(select(User.id).where(User.username == "clerk1")).one()
    values = {"letter_id": office.letters["written"], "case_id": office.cases["mine"],
              "reply_id": office.replies["mine"], "user_id": user_id, "number": 1, "line": 0,
              "task_id": 1, "unit_id": 1, "place_id": 1, "route_id": 1, "category_id": 1,
              "name": "acknowledgement", "kind": "pdf", "action": "accept", "code": "x",
              "filename": "huiyin.css", "note_id": 1, "reception_id": 1, "filter_id": 1}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)
        found += [(method, url) for method in sorted((rule.methods or set()) & UNSAFE)]
    return found


def _case_version(app: Flask, case_id: int) -> int:
    with app.extensions["huiyin"].db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.version


def test_every_form_without_the_token_is_refused(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    forms = _forms(app, office)
    assert len(forms) >= 20, forms  # the routes were found
    wrong = []
    for username in ("clerk1", "leader1", "admin1"):
        client = signed_in(username)
        for method, url in forms:
            with client.open(url, method=method, data={"version": "1", "text": "x"}) as response:
                page = response.get_data(as_text=True)
                if response.status_code != 400 or "CSRF" not in page:
                    wrong.append(f"{username} {method} {url} -> {response.status_code}")
    assert not wrong, "\n".join(wrong)


def test_a_token_from_another_session_is_refused(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    attacker, victim = signed_in("handler1"), signed_in("leader1")
    case_id = office.cases["mine"]
    token = csrf_token(attacker, "/")
    version = _case_version(app, case_id)
    response = victim.post(f"/cases/{case_id}/actions/accept",
                           data={"csrf_token": token, "version": str(version)})
    assert response.status_code == 400
    assert _case_version(app, case_id) == version  # nothing happened to the case
    response = victim.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert victim.get("/").status_code == 200  # still signed in


def test_the_token_is_bound_to_the_session_and_a_new_session_gets_a_new_one(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    a, b = signed_in("clerk1"), signed_in("clerk1")
    assert csrf_token(a, "/") != csrf_token(b, "/")


def test_the_sign_in_form_needs_its_token(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "clerk1", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in


def test_the_api_ignores_the_session_cookie(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("leader1")  # a browser with a session: a forged cross-site request
    case_id = office.cases["mine"]
    version = _case_version(app, case_id)
    response = client.post(f"/api/v1/cases/{case_id}/actions/accept", json={"version": version})
    assert response.status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert _case_version(app, case_id) == version
