"""Sign-in throttling a proxy cannot turn against the office: the client's address only from a
trusted proxy, delays per name that grow instead of a lock anyone can set off, tries while
waiting that do not make the wait longer, and the admin's list of recent failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import LoginAttempt
from tests.web.signin import PASSWORD, add_users, csrf_token, sign_in
from web.app import create_app
from web.services import access
from web.services.instance import Instance

PROXY = "10.0.0.9"
T0 = dt.datetime(2031, 3, 2, 9, 0)  # the service tests' own clock, apart from the app's


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("delays") / "instance"
    with Instance(home) as instance:
        instance.create()
    add_users(home)
    (home / "config.toml").write_text(f'trusted_proxies = "{PROXY}"\n', encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def app(home: Path) -> Flask:
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


@pytest.fixture
def instance(home: Path) -> Iterator[Instance]:
    with Instance(home) as opened:
        yield opened


def _login(client: FlaskClient, username: str, password: str, *, peer: str,
           forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    client.environ_base["REMOTE_ADDR"] = peer
    answer = client.post("/login", headers=headers, data={
        "username": username, "password": password, "csrf_token": csrf_token(client)})
    return answer.status_code


def test_guessing_behind_the_proxy_does_not_lock_the_office_out(app: Flask,
                                                                instance: Instance) -> None:
    attacker = app.test_client()
    for k in range(25):  # more than the old 20 per address, and 5+ on one real name
        name = "clerk1" if k < 6 else f"guess{k}"
        assert _login(attacker, name, "wrong-password-1", peer=PROXY,
                      forwarded="203.0.113.7") in (401, 429)
    colleague = app.test_client()
    assert _login(colleague, "leader1", PASSWORD, peer=PROXY,
                  forwarded="198.51.100.2") == 302  # another address: not made to wait
    with instance.db.session() as session:
        addresses = set(session.scalars(select(LoginAttempt.remote_addr).where(
            LoginAttempt.username.like("guess%"))))
    assert addresses == {"203.0.113.7"}  # the address the proxy saw, not the proxy's own


def test_a_forged_forwarded_for_from_elsewhere_is_ignored(app: Flask,
                                                          instance: Instance) -> None:
    client = app.test_client()
    assert _login(client, "forger", "wrong-password-1", peer="192.0.2.50",
                  forwarded="127.0.0.1") == 401
    with instance.db.session() as session:
        seen = session.scalars(select(LoginAttempt.remote_addr).where(
            LoginAttempt.username == "forger")).all()
    assert seen == ["192.0.2.50"]


def _try(instance: Instance, username: str, password: str, at: dt.datetime,
         addr: str = "192.0.2.1") -> str:
    with instance.db.session() as session:
        try:
            access.authenticate(session, username, password, addr, at)
        except access.LoginRefused as e:
            return str(e)
    return "ok"


def test_five_wrong_passwords_only_delay_the_name(instance: Instance) -> None:
    at = T0
    for k in range(5):  # each try made as soon as the one before allows
        at += access.delay_after(k, access.FREE_FAILURES_PER_NAME)
        assert "不正确" in _try(instance, "handler1", "wrong-password", at)
    wait = access.delay_after(5, access.FREE_FAILURES_PER_NAME)
    assert dt.timedelta(0) < wait < dt.timedelta(minutes=1)
    assert "秒后再试" in _try(instance, "handler1", PASSWORD, at + wait / 2)  # not checked
    assert _try(instance, "handler1", PASSWORD, at + wait) == "ok"


def test_tries_while_waiting_do_not_make_the_wait_longer(instance: Instance) -> None:
    start = T0 + dt.timedelta(hours=3)
    at = start
    for k in range(8):  # the wait has grown to its longest
        at = start + dt.timedelta(minutes=k)
        assert "不正确" in _try(instance, "leader1", "wrong-password", at)
    wait = access.delay_after(8, access.FREE_FAILURES_PER_NAME)
    assert wait == access.MAX_DELAY
    for k in range(1, 60):  # a script knocking every second while it waits
        refused = _try(instance, "leader1", PASSWORD, at + wait * k / 60)
        assert "秒后再试" in refused
    assert _try(instance, "leader1", PASSWORD, at + wait) == "ok"


def test_the_admin_sees_recent_failures(app: Flask) -> None:
    _login(app.test_client(), "clerk1", "wrong-password-2", peer="198.51.100.77")
    page = sign_in(app.test_client(), "admin1").get("/admin/signins")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "198.51.100.77" in text and "clerk1" in text
    assert sign_in(app.test_client(), "leader1").get("/admin/signins").status_code == 403
