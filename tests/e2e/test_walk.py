"""Every page a role reaches from the menus, in Chromium at 1366×768, read as a clerk reads it.

The instance is the demo (`huiyin init --demo`): its letters, cases and users with display
names. Signed in as each role, the test follows the menu and the links of the pages it opens
(one page per kind of address: /cases/3 stands for every case) and the error pages, and fails on
  - a Latin word outside the allow-list (numbers, units, PDF, ID, QR ...),
  - a user name shown where the person has a display name,
  - a page wider than a 1366×768 screen (a horizontal scroll bar).
Screenshots of every page go to test-artifacts/e2e/test_every_page_reads_in_chinese[ROLE]/.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import enter_next_year, shot, start_shots
from web.bench.web import huiyin_command
from web.services.demo import DEMO_PASSWORD, USERS

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1500)]

SCREEN = {"width": 1366, "height": 768}
# Latin words a Chinese clerk reads every day (formats, units, the case number's prefix).
ALLOWED = frozenset({"PDF", "ID", "QR", "OCR", "XF", "A4", "kB", "KB", "MB", "GB", "Excel",
                     "Word", "docx", "xlsx", "pdf", "jpg", "JPG", "JPEG", "png", "PNG", "tiff",
                     "TIFF", "Ctrl", "Enter", "Esc", "Tab", "Shift", "Alt", "px", "dpi", "API",
                     "URL", "JSON", "CSV", "csv", "PDF/A", "SHA", "Huiyin", "UTF", "GBK",
                     "CA", "PKCS", "X"})
LATIN = re.compile(r"[A-Za-z][A-Za-z/]*")
MAX_PAGES = 60  # per role; one page per kind of address
# Addresses that change something, download a file or belong to the JSON API.
SKIP = re.compile(r"/logout|/api/|\.(pdf|docx|xlsx|png|jpg|svg)$|/(pdf|docx|signed|original)$"
                  r"|/download|/static/")
USER_NAMES = {username: name for username, name, _role, _unit in USERS}


@pytest.fixture(scope="module")
def e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo instance (its letters read by the real OCR) with a signed, delivered reply."""
    home = tmp_path_factory.mktemp("walk") / "instance"
    subprocess.run([*huiyin_command(), "--home", str(home), "init", "--demo"], check=True,
                   capture_output=True, timeout=1200)
    enter_next_year(home, dt.date.today().year + 1)
    for command in (["reply", "1", "--template", "acknowledgement", "--sign", "--leader",
                     "leader", "--checked", "--password-stdin"],
                    ["reply", "2", "--template", "acknowledgement"],
                    ["delivered", "1", "--method", "邮寄"]):
        subprocess.run([*huiyin_command(), "--home", str(home), *command], check=True,
                       capture_output=True, timeout=1200, input=f"{DEMO_PASSWORD}\n",
                       text=True)
    return home


def _kind(path: str) -> str:
    """One address per kind: digits and registration numbers stand for any."""
    return re.sub(r"\d[\d-]*", "N", path)


# The page's words as shown, less what is raw on purpose (data-raw: a user name on the users
# page, a fingerprint, a scan's own file name, a CSV column the admin types; kbd: key names).
TEXT_SHOWN = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[data-raw], kbd, script, style, template').forEach(e => e.remove());
  document.body.appendChild(copy);
  copy.style.position = 'absolute';
  const text = copy.innerText;
  copy.remove();
  return document.title + '\\n' + text;
}"""


def _problems(page: Page) -> list[str]:
    """What a clerk would stumble on in the page as shown."""
    text = page.evaluate(TEXT_SHOWN)
    found = []
    latin = sorted({w for w in LATIN.findall(text) if w not in ALLOWED
                    and w.strip("/") not in ALLOWED})
    if latin:
        found.append(f"Latin words {latin}")
    shown = sorted(u for u in USER_NAMES if re.search(rf"(?<![A-Za-z]){u}(?![A-Za-z])", text))
    if shown:
        found.append(f"user names instead of display names {shown}")
    wide = page.evaluate("() => document.documentElement.scrollWidth"
                         " - document.documentElement.clientWidth")
    if wide > 0:
        found.append(f"{wide}px wider than the screen")
    return found


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _visit(page: Page, path: str, report: dict[str, list[str]], label: str = "") -> int:
    """Open a page, keep its screenshot and note its problems; its HTTP status."""
    response = page.goto(path)
    assert response is not None, path
    shot(page, path)
    if problems := _problems(page):
        report[label + path] = problems
    return response.status


def walk(page: Page) -> dict[str, list[str]]:
    """Follow the menu and the links of each page opened; the problems of each page."""
    menu = page.locator("nav.areas a").evaluate_all(
        "as => as.map(a => new URL(a.getAttribute('href'), location.href).href)")
    queue, seen, report = list(menu), set(), {}
    origin = urlsplit(page.url).netloc
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = _kind(parts.path) + ("?" if parts.query else "")
        if parts.netloc != origin or key in seen or SKIP.search(parts.path):
            continue
        seen.add(key)
        response = page.goto(url)
        assert response is not None
        page.wait_for_load_state("networkidle")
        shot(page, parts.path.strip("/") or "home")
        problems = _problems(page)
        if response.status >= 500:
            problems.append(f"status {response.status}")
        if problems:
            report[parts.path + ("?" + parts.query if parts.query else "")] = problems
        queue += page.locator("main a[href]:not([download])").evaluate_all(
            "as => as.map(a => new URL(a.getAttribute('href'), location.href).href)")
    return report


@pytest.mark.parametrize("role", [u[2] for u in USERS])
def test_every_page_reads_in_chinese(browser: Browser, server: str, role: str,
                                     request: pytest.FixtureRequest) -> None:
    username = next(u[0] for u in USERS if u[2] == role)
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=SCREEN)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        start_shots(page, request.node.name)
        _sign_in(page, username)
        report = walk(page)
        for path in ("/no-such-page", "/letters/999999", "/cases/999999"):
            _visit(page, path, report)
        assert not report, "\n".join(f"{k}: {v}" for k, v in report.items())
    finally:
        context.close()


def test_error_pages_read_in_chinese(browser: Browser, server: str,
                                     request: pytest.FixtureRequest) -> None:
    """403 (a handler on the admin page), 404, and a broken page image, signed in or not."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=SCREEN)
    try:
        page = context.new_page()
        start_shots(page, request.node.name)
        report: dict[str, list[str]] = {}
        for path in ("/no-such-page", "/verify/NO-SUCH-CODE"):
            _visit(page, path, report, "anonymous ")
        _sign_in(page, "handler")
        for path in ("/admin/", "/letters/999999/page/1.png", "/no-such-page"):
            assert _visit(page, path, report) in (403, 404), path
        assert not report, "\n".join(f"{k}: {v}" for k, v in report.items())
    finally:
        context.close()


def test_the_id_and_phone_fields_show_every_digit(browser: Browser, server: str,
                                                  request: pytest.FixtureRequest) -> None:
    """At 1366×768 the review form's ID field hid its 18th digit (the check digit)."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=SCREEN)
    try:
        page = context.new_page()
        start_shots(page, request.node.name)
        _sign_in(page, "clerk")
        page.goto("/review/letters/1")
        for label, value in (("身份证号", "41172219630412352X"), ("电话", "13839452176")):
            field = page.get_by_label(f"第 1 位信访人{label}")
            field.fill(value)
            hidden = field.evaluate("e => e.scrollWidth - e.clientWidth")
            assert hidden <= 0, f"{hidden}px of the {label} are hidden"
        shot(page, "id-and-phone")
    finally:
        context.close()
