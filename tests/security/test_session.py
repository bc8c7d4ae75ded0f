"""Sessions: a cookie planted before sign-in is worth nothing after it (fixation); signing out
ends the session even for a stolen copy of its cookie; cookies carry HttpOnly and SameSite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.office import Office
from tests.web.signin import PASSWORD, csrf_token, sign_in
from web.app import create_app

COOKIE = "huiyin_session"


def _replayed(app: Flask, value: str) -> FlaskClient:
    """A client (the attacker's browser) holding a copy of a cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/dashboard/").status_code == 200


def test_a_cookie_planted_before_sign_in_is_not_signed_in_after(app: Flask) -> None:
    victim = app.test_client()
    victim.get("/login")  # the attacker made this session and planted it in the victim's browser
    planted = victim.get_cookie(COOKIE)
    assert planted is not None
    sign_in(victim, "leader1")
    after = victim.get_cookie(COOKIE)
    assert after is not None and after.value != planted.value  # a new session on sign-in
    assert _signed_in(victim)
    assert not _signed_in(_replayed(app, planted.value))


def test_the_csrf_token_of_a_planted_session_dies_at_sign_in(
        office: object, app: Flask) -> None:
    """The attacker who planted a session knows its CSRF token: after the victim signs in,
    that token must not work for the victim's session."""
    victim = app.test_client()
    known = csrf_token(victim)  # read by the attacker from the planted session's page
    sign_in(victim, "leader1")
    response = victim.post("/logout", data={"csrf_token": known})
    assert response.status_code == 400, "the planted session's CSRF token still works"
    assert _signed_in(victim)


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("leader1")
    stolen = client.get_cookie(COOKIE)
    assert stolen is not None
    assert _signed_in(_replayed(app, stolen.value))  # the copy works while the session lives
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not _signed_in(client)
    assert not _signed_in(_replayed(app, stolen.value)), "the signed-out session still works"


def test_signing_out_one_session_leaves_the_others(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    office_pc, laptop = signed_in("clerk1"), signed_in("clerk1")
    office_pc.post("/logout", data={"csrf_token": csrf_token(office_pc, "/")})
    assert not _signed_in(office_pc) and _signed_in(laptop)


def test_a_session_survives_a_password_change_of_its_own(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    """Changing one's password keeps this session (and its sign-out still works after)."""
    client = signed_in("admin1")
    new = "another-password-77"
    form = {"old": PASSWORD, "new": new, "again": new,
            "csrf_token": csrf_token(client, "/account/password")}
    try:
        assert client.post("/account/password", data=form).status_code == 302
        assert _signed_in(client)
        stolen = client.get_cookie(COOKIE)
        assert stolen is not None
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        assert not _signed_in(_replayed(app, stolen.value))
    finally:
        client = sign_in(app.test_client(), "admin1", new)
        back = {"old": new, "new": PASSWORD, "again": PASSWORD,
                "csrf_token": csrf_token(client, "/account/password")}
        assert client.post("/account/password", data=back).status_code == 302


def test_a_tampered_cookie_is_refused(app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    cookie = signed_in("leader1").get_cookie(COOKIE)
    assert cookie is not None
    body, _, signature = cookie.value.rpartition(".")
    forged = body + "." + ("A" if signature[:1] != "A" else "B") + signature[1:]
    assert not _signed_in(_replayed(app, forged))


def test_session_cookie_flags(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "clerk1", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    assert cookies, response.headers
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Domain=" not in cookie  # never shared with other hosts
        assert "Secure" not in cookie  # the intranet may be plain HTTP (secure_cookies)


def test_behind_https_the_cookie_is_secure(office: Office, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """secure_cookies: the cookie is never sent over plain HTTP (without it, it must be: the
    office may serve its intranet over HTTP)."""
    monkeypatch.setenv("HUIYIN_SECURE_COOKIES", "true")
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    client = app.test_client()
    response = client.post("/login", data={"username": "clerk1", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    assert cookies and all("Secure" in c for c in cookies)
