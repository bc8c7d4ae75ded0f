"""Helpers of the browser tests: screenshots of each step and signing in through the real form.

Tests import them (``from tests.e2e.browser import shot, sign_in``); the fixtures that start
the server and the browser are in this folder's conftest.py.
"""

from __future__ import annotations

import re
import weakref
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.artifacts import ARTIFACTS as RUN_ARTIFACTS
from tests.web.signin import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright never downloads a browser
LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-gpu"]
ARTIFACTS = RUN_ARTIFACTS / "e2e"

_UNSAFE = re.compile(r"[^\w.-]+")


class _Shots:
    """Where one test's screenshots go and how many it has taken (shared by its pages)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0


_shots: weakref.WeakKeyDictionary[Page, _Shots] = weakref.WeakKeyDictionary()


def start_shots(page: Page, test_name: str) -> Path:
    """Screenshots of this page go to test-artifacts/e2e/<test name>/ (emptied first)."""
    folder = ARTIFACTS / _UNSAFE.sub("_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    _shots[page] = _Shots(folder)
    return folder


def share_shots(other: Page, page: Page) -> Page:
    """Number another page's screenshots (a second user's window) with this page's."""
    _shots[other] = _shots.get(page) or _Shots(ARTIFACTS / "unnamed")
    return other


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot numbered in the order the test takes them (01-login.png)."""
    state = _shots.setdefault(page, _Shots(ARTIFACTS / "unnamed"))
    state.count += 1
    state.folder.mkdir(parents=True, exist_ok=True)
    path = state.folder / f"{state.count:02d}-{_UNSAFE.sub('_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def enter_next_year(home: Path, year: int) -> None:
    """The office's arrangement for a year the holidays library does not carry yet, as an admin
    enters it (holidays.csv): a letter received in December has deadlines in the next year."""
    (home / "holidays.csv").write_text(
        f"date,kind,name\n{year}-01-01,year,本单位录入（国务院通知发布前）\n"
        f"{year}-01-01,holiday,元旦\n", encoding="utf-8")


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form as a person would, and check that it worked."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header .who")).to_contain_text(username)


def sign_out(page: Page) -> None:
    """The 退出 button in the header; lands on the login form."""
    page.locator("header .who").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
