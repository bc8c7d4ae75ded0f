"""Signing in: the form, its limits, the session it makes and what ends it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from records import LoginAttempt, User
from tests.web.signin import PASSWORD, add_users, csrf_token, sign_in
from web.app import create_app
from web.services import access
from web.services.instance import Instance


@pytest.fixture
def app(instance: Instance, home: Path) -> Flask:
    add_users(home)
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


def _login(client, username: str, password: str, next_: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password,
                                       "next": next_, "csrf_token": csrf_token(client)})


def test_a_stranger_is_sent_to_sign_in_and_comes_back_after(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/search?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    back = _login(client, "clerk1", PASSWORD, next_="/search?q=x")
    assert back.headers["Location"] == "/search?q=x"
    assert client.get("/search?q=x").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask) -> None:
    client = app.test_client()
    wrong = _login(client, "clerk1", "not-the-password")
    unknown = _login(client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert "用户名或密码不正确" in unknown.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_guessing_delays_the_name_even_for_the_right_password(app: Flask, home: Path) -> None:
    client = app.test_client()
    for _ in range(access.FREE_FAILURES_PER_NAME):
        assert _login(client, "leader1", "guess-guess-guess").status_code == 401
    delayed = _login(client, "leader1", PASSWORD)
    assert delayed.status_code == 429
    assert "秒后再试" in delayed.get_data(as_text=True)
    assert _login(client, "clerk1", PASSWORD).status_code == 302  # other names do not wait
    with Instance(home) as instance, instance.db.session() as session:
        tries = session.execute(select(LoginAttempt.success, LoginAttempt.delayed).where(
            LoginAttempt.username == "leader1")).all()
    assert sorted(tries) == [(False, False)] * access.FREE_FAILURES_PER_NAME + [(False, True)]


def test_no_open_redirect_after_sign_in(app: Flask) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        response = _login(app.test_client(), "clerk1", PASSWORD, next_=target)
        assert response.headers["Location"] == "/", target


def test_forms_without_the_csrf_token_are_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "clerk1", "password": PASSWORD})
    assert response.status_code == 400
    sign_in(client, "clerk1")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still signed in: the forged sign-out failed


def test_session_cookie_flags_and_a_new_session_on_sign_in(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie("huiyin_session")
    response = _login(client, "clerk1", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    after = client.get_cookie("huiyin_session")
    assert before is not None and after is not None and after.value != before.value


def test_changing_the_password_ends_other_sessions(app: Flask) -> None:
    mine, other = sign_in(app.test_client(), "clerk1"), sign_in(app.test_client(), "clerk1")
    new = "a-new-password-7"
    weak = mine.post("/account/password", data={
        "old": PASSWORD, "new": "short", "again": "short", "csrf_token": csrf_token(mine, "/")})
    assert weak.status_code == 400 and "至少 10 个字符" in weak.get_data(as_text=True)
    changed = mine.post("/account/password", data={
        "old": PASSWORD, "new": new, "again": new, "csrf_token": csrf_token(mine, "/")})
    assert changed.status_code == 302
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302  # the other browser must sign in again
    assert _login(app.test_client(), "clerk1", new).status_code == 302


def test_a_disabled_user_is_signed_out(app: Flask, home: Path) -> None:
    client = sign_in(app.test_client(), "handler1")
    with Instance(home) as instance, instance.db.session() as session:
        user = session.scalars(select(User).where(User.username == "handler1")).one()
        user.active = False
    assert client.get("/").status_code == 302
    assert _login(app.test_client(), "handler1", PASSWORD).status_code == 401


def test_passwords_are_stored_as_argon2id(app: Flask, home: Path) -> None:
    with Instance(home) as instance, instance.db.session() as session:
        stored = session.scalars(select(User.password_hash)).all()
    assert stored and all(h and h.startswith("$argon2id$") for h in stored)
    assert all(PASSWORD not in (h or "") for h in stored)
