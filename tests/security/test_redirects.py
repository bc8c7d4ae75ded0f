"""Open redirects: whatever `next=` says, and whatever Host a request claims, every redirect the
site makes lands on a page of this site — as a browser would read the Location header."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.signin import PASSWORD, csrf_token

SITE = "http://localhost/"
TARGETS = (
    "https://evil.example/", "//evil.example/x", "///evil.example/x", "/\\evil.example",
    "\\\\evil.example", "javascript:alert(1)", "data:text/html,<script>x</script>",
    "http:/evil.example", "https:evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r/evil.example", " //evil.example", "/%2F/evil.example", "/%5Cevil.example",
    "\u3002/evil.example", "//evil.example%2F@localhost", "/.//evil.example",
    "//localhost@evil.example", "/login?next=//evil.example", "evil.example",
)


def lands_here(location: str) -> bool:
    """Where a browser goes: the WHATWG parser drops tabs and newlines and reads \\ as /."""
    cleaned = "".join(c for c in location.strip(" \x00-\x1f") if c not in "\t\n\r")
    cleaned = cleaned.replace("\\", "/")
    target = urlsplit(urljoin(SITE, cleaned))
    return target.scheme in ("http", "https") and target.netloc == "localhost"


def _sign_in(client: FlaskClient, next_: str) -> str:
    response = client.post("/login", data={
        "username": "clerk1", "password": PASSWORD, "next": next_,
        "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return response.headers["Location"]


@pytest.mark.parametrize("target", TARGETS)
def test_sign_in_never_sends_the_user_to_another_site(app: Flask, target: str) -> None:
    location = _sign_in(app.test_client(), target)
    assert lands_here(location), f"next={target!r} -> Location: {location!r}"


def test_a_local_next_is_kept(app: Flask) -> None:
    assert _sign_in(app.test_client(), "/cases/?status=open") == "/cases/?status=open"


def test_the_next_field_on_the_sign_in_page_is_escaped(app: Flask) -> None:
    page = app.test_client().get("/login?next=" + quote('"><script>alert(1)</script>'))
    assert "<script>alert(1)" not in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["//evil.example/x", "/%2F%2Fevil.example", "/\\evil.example"])
def test_the_sign_in_redirect_of_a_stranger_stays_here(app: Flask, path: str) -> None:
    response = app.test_client().get(path, base_url=SITE)
    if response.status_code in (301, 302, 303, 307, 308):
        assert lands_here(response.headers["Location"]), response.headers["Location"]
        follow = response.headers["Location"]
        assert "evil.example" not in follow.split("next=")[0]


def test_a_forged_host_header_does_not_reach_a_redirect(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    stranger = app.test_client().get("/cases/", headers={"Host": "evil.example",
                                                         "X-Forwarded-Host": "evil.example"})
    assert "evil.example" not in stranger.headers.get("Location", "")
    client = signed_in("leader1")
    response = client.post("/logout", headers={"X-Forwarded-Host": "evil.example"},
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_the_oracle_itself() -> None:
    assert lands_here("/cases/") and lands_here("/login?next=%2F")
    assert not lands_here("//evil.example") and not lands_here("/\t/evil.example")
