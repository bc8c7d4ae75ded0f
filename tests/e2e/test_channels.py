"""登记来访 in Chromium against the real server: a refusal shown at its field, then a visit
received on a 领导接待日 registered end to end (the letter's page, the day's page)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def submit(page: Page) -> None:
    """登记 from the keyboard (a click right after a full-page screenshot can land on the
    layout of the moment before), waiting for the answer however slow the machine is."""
    with page.expect_navigation():
        page.locator("#register button[type=submit]").focus()
        page.keyboard.press("Enter")


def test_a_visit_is_registered_from_the_page_after_a_refusal_at_its_field(
        page: Page, e2e_home: Path) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "clerk1")
    page.goto("/channels/receptions")
    page.select_option("select[name=leader]", label="leader1")
    page.fill("input[name=place]", "县信访局一楼接待大厅")
    with page.expect_navigation():
        page.click("form.register button[type=submit]")
    expect(page.locator("h1")).to_contain_text("领导接待日")
    page.click("text=登记本次接待的来访")
    expect(page.locator("select[name=reception_id]")).to_have_value(page.url.split("=")[-1])
    page.fill("input[name=name]", "苗翠兰")
    page.fill("input[name=phone]", "1383945")  # too short: refused at the field
    page.fill("input[name=address]", "石桥镇枣树营村三组")
    page.fill("textarea[name=text]", "宅基地被邻居占用三年，多次找村里未解决，请求领导督促处理。")
    page.fill("input[name=people]", "3")
    shot(page, "filled")
    submit(page)
    phone = page.locator("input[name=phone]")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-phone")).to_contain_text("不是有效的号码")
    expect(page.locator("textarea[name=text]")).to_have_value(
        "宅基地被邻居占用三年，多次找村里未解决，请求领导督促处理。")  # what was typed stays
    expect(phone).to_be_focused()
    shot(page, "refused-at-field")
    phone.fill("13839452176")
    submit(page)
    expect(page.locator("p.flash")).to_contain_text("来访已登记")
    expect(page.locator("section.register-data")).to_contain_text("（来访）")
    expect(page.locator("table.people")).to_contain_text("苗翠兰")
    shot(page, "letter-page")
    page.goto("/channels/receptions")
    page.click("table.plain a >> nth=0")
    expect(page.locator("section[aria-label=接待的来访]")).to_contain_text("苗翠兰")
    shot(page, "reception-day")
