"""Security headers on every kind of response — pages, errors, redirects, static files, JSON,
images, downloads — in the test client and from the real server; cookie flags wherever a
cookie is set."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.security.office import Office

REQUIRED = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer"}
CSP_DIRECTIVES = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
                  "base-uri 'none'", "form-action 'self'")


def check(headers: dict[str, str], where: str, *, personal: bool) -> list[str]:
    """What is missing or wrong in one response's headers."""
    wrong = [f"{where}: {name} is {headers.get(name)!r}" for name, value in REQUIRED.items()
             if headers.get(name) != value]
    csp = headers.get("Content-Security-Policy", "")
    wrong += [f"{where}: CSP lacks {d}" for d in CSP_DIRECTIVES if d not in csp]
    directives = {d.strip().split(" ")[0]: d for d in csp.split(";") if d.strip()}
    scripts = directives.get("script-src", directives.get("default-src", ""))
    if "unsafe-inline" in scripts or "unsafe-eval" in scripts:
        wrong.append(f"{where}: CSP lets inline or eval'd script run")
    if personal and "no-store" not in headers.get("Cache-Control", ""):
        wrong.append(f"{where}: personal data without Cache-Control: no-store")
    for cookie in headers.get("Set-Cookie", "").split("\n"):
        if "Max-Age=0" in cookie:
            continue  # a cookie being deleted carries nothing
        if cookie and not ("HttpOnly" in cookie and "SameSite=" in cookie):
            wrong.append(f"{where}: cookie without HttpOnly/SameSite: {cookie}")
    return wrong


def _headers(response: TestResponse) -> dict[str, str]:
    found = {k: v for k, v in response.headers.items()}
    found["Set-Cookie"] = "\n".join(response.headers.getlist("Set-Cookie"))
    return found


def test_every_kind_of_response_carries_the_headers(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient],
        api_token: Callable[[str], dict[str, str]]) -> None:
    client, stranger = signed_in("leader1"), app.test_client()
    token = api_token("leader1")
    w, s, r = office.letters["written"], office.letters["scanned"], office.replies["mine"]
    kinds: list[tuple[str, FlaskClient, str, dict[str, str], int, bool]] = [
        ("page", client, f"/letters/{w}", {}, 200, True),
        ("sign-in page", stranger, "/login", {}, 200, False),
        ("redirect to sign in", stranger, "/cases/", {}, 302, False),
        ("not found", client, "/letters/999999", {}, 404, True),
        ("forbidden", client, "/admin/", {}, 403, True),
        ("bad method", client, "/letters/1", {"method": "DELETE"}, 405, True),
        ("CSRF refusal", client, "/logout", {"method": "POST"}, 400, True),
        ("static", stranger, "/static/huiyin.css", {}, 200, False),
        ("static, signed in", client, "/static/no-such.js", {}, 404, False),
        ("page image", client, f"/review/letters/{s}/pages/1.png", {}, 200, True),
        ("download", client, f"/replies/{r}/docx", {}, 200, True),
        ("public verification", stranger, "/verify/", {}, 200, False),
        ("JSON", stranger, "/api/v1/letters", token, 200, True),
        ("JSON error", stranger, "/api/v1/letters", {}, 401, False),
        ("JSON not found", stranger, "/api/v1/letters/999999", token, 404, True),
    ]
    wrong = []
    for name, who, url, extra, status, personal in kinds:
        method = extra.pop("method", "GET") if "method" in extra else "GET"
        with who.open(url, method=method, headers=extra) as response:
            if response.status_code != status:
                wrong.append(f"{name}: {url} answered {response.status_code}, not {status}")
            wrong += check(_headers(response), f"{name} ({url})", personal=personal)
    assert not wrong, "\n".join(wrong)


def test_signing_in_sets_a_flagged_cookie(app: Flask) -> None:
    from tests.web.signin import PASSWORD, csrf_token

    client = app.test_client()
    response = client.post("/login", data={"username": "clerk1", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    headers = _headers(response)
    assert "huiyin_session=" in headers["Set-Cookie"]
    assert not check(headers, "sign-in", personal=False)


@pytest.mark.slow
def test_the_real_server_sends_them_too(office: Office, tmp_path: Path) -> None:
    """Through gunicorn: its own error pages and static files included."""
    import shutil

    from web.bench.web import start_server, stop_server

    home = tmp_path / "instance"
    shutil.copytree(office.home, home)
    process, url = start_server(home, tmp_path / "serve.log")
    wrong = []
    try:
        for path, personal in (("/login", False), ("/static/huiyin.css", False),
                               ("/no-such-page", False), ("/api/v1/me", False),
                               ("/letters/1", False)):
            request = urllib.request.Request(url + path)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    headers = dict(response.headers.items())
            except urllib.error.HTTPError as e:
                headers = dict(e.headers.items())
            wrong += check(headers, path, personal=personal)
    finally:
        stop_server(process)
    assert not wrong, "\n".join(wrong)


def test_the_checker_itself() -> None:
    assert check({}, "empty", personal=True)
    good = {**REQUIRED, "Content-Security-Policy": "; ".join(CSP_DIRECTIVES),
            "Cache-Control": "no-store"}
    assert not check(good, "good", personal=True)
    assert check({**good, "Content-Security-Policy": good["Content-Security-Policy"]
                  + "; script-src 'self' 'unsafe-inline'"}, "inline", personal=True)
