"""Browser tests: a real instance, the real server in a subprocess, Debian's chromium.

Fixtures (session scope unless said): ``e2e_home`` (``huiyin init`` + a user of every role),
``server`` (``huiyin --home H serve --port P`` in its own process group, stopped with all its
children at the end), ``browser`` (chromium through Playwright, skipped when /usr/bin/chromium
is absent — ``make test`` installs it), and per test ``page`` (a fresh context whose
screenshots go to test-artifacts/e2e/<test name>/; see browser.py for ``shot`` and ``sign_in``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.browser import CHROMIUM, LAUNCH_ARGS, enter_next_year, start_shots
from tests.web.signin import add_users
from web.bench.web import huiyin_command, start_server, stop_server


@pytest.fixture(scope="session")
def e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance made by the real `huiyin init`, with users clerk1, handler1, leader1, admin1."""
    home = tmp_path_factory.mktemp("e2e") / "instance"
    subprocess.run([*huiyin_command(), "--home", str(home), "init"], check=True,
                   capture_output=True, timeout=300)
    add_users(home)
    enter_next_year(home, dt.date.today().year + 1)
    return home


@pytest.fixture(scope="module")
def server(e2e_home: Path) -> Iterator[str]:
    """The base URL of the real server (huiyin serve), stopped with its children at the end."""
    process, url = start_server(e2e_home, e2e_home.parent / "serve.log")
    atexit.register(stop_server, process)  # even if pytest itself is interrupted
    try:
        yield url
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (no browser download, ever)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (`make test` does)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, server: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the server, in Chinese, 1280×900."""
    context = browser.new_context(
        base_url=server, locale="zh-CN", viewport={"width": 1280, "height": 900},
        accept_downloads=True)
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    start_shots(new_page, request.node.name)
    try:
        yield new_page
    finally:
        context.close()
