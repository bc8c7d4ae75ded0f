"""API tokens: opaque, revoked by the API's sign-out and by signing out of the pages."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.web.signin import csrf_token


def test_a_token_is_opaque(api_token: Callable[[str], dict[str, str]]) -> None:
    token = api_token("clerk1")["Authorization"].removeprefix("Bearer ")
    assert "." not in token and len(token) >= 40  # no signed, decodable user id inside


def test_the_api_sign_out_ends_the_token(app: Flask,
                                         api_token: Callable[[str], dict[str, str]]) -> None:
    client = app.test_client()
    headers, other = api_token("leader1"), api_token("leader1")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    answer = client.post("/api/v1/logout", headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"revoked": True}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/logout", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=other).status_code == 200  # only that one ended


def test_signing_out_of_the_pages_ends_the_api_tokens(
        app: Flask, signed_in: Callable[[str], FlaskClient],
        api_token: Callable[[str], dict[str, str]]) -> None:
    headers = api_token("handler1")
    page = signed_in("handler1")
    assert page.post("/logout", data={"csrf_token": csrf_token(page, "/cases/")}).status_code \
        == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_a_forged_or_unknown_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    for token in ("x" * 43, "1:abc", "", "Bearer", "a" * 5000):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}) \
            .status_code == 401
