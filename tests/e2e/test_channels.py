"""登记来访 in Chromium against the real server: a refusal shown at its field, then a visit
received on a 领导接待日 registered end to end (the letter's page, the day's page); and a case
marked 重大紧急 and settled by a signed 调解协议书 from its page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import shot, sign_in
from web.services import case_actions
from web.services.instance import Instance
from web.services.registration import register_written

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


def test_a_case_is_marked_urgent_then_settled_from_its_page(page: Page, e2e_home: Path) -> None:
    with Instance(e2e_home) as instance:
        letter_id = register_written(instance, channel="phone", name="卢振东",
                                     text="工地拖欠农民工工资十八万元，工人准备去县政府门口聚集。",
                                     actor="clerk1")
        case_id = case_actions.open_case(instance, letter_id, actor="clerk1")
        case_actions.act_on(instance, case_id, "accept", {"told": "电话告知", "note": "已电话告知"},
                            actor="clerk1", role="clerk")
        # told a little before now, in the office's time (a report cannot be in the future)
        told = instance.now().replace(second=0, microsecond=0)
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "clerk1")
    page.goto(f"/cases/{case_id}")
    page.locator("summary", has_text="重大紧急：标记、报告").click()
    form = page.locator(f"form[action='/cases/{case_id}/actions/urgent']")
    form.locator("input[name=reason]").fill("二十余名工人拟到县政府聚集")
    form.locator("select[name=recipient]").select_option("本级党委和政府")
    form.locator("input[name=person]").fill("县委办公室")
    form.locator("select[name=how]").select_option("电话")
    form.locator("input[name=told_at]").fill(told.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        form.locator("button[type=submit]").press("Enter")
    box = page.locator("section[aria-label=重大紧急]")
    expect(box).to_contain_text("已报告本级党委和政府（县委办公室）")
    expect(box).to_contain_text("尚未报告：相关主管部门")
    shot(page, "urgent")
    page.locator("summary", has_text="调解、和解（协议书）").click()
    settle = page.locator(f"form[action='/cases/{case_id}/actions/settle']")
    settle.locator("select[name=kind]").select_option("调解")
    settle.locator("textarea[name=parties]").fill("卢振东等 23 名工人\n城关镇某建筑公司")
    settle.locator("textarea[name=terms]").fill("公司于十日内付清工资十八万元。")
    scan = e2e_home.parent / "调解协议书.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    settle.locator("input[name=file]").set_input_files(scan)
    shot(page, "settle-form")
    with page.expect_navigation():
        settle.locator("button[type=submit]").press("Enter")
    expect(page.locator("h1 .stage")).to_have_text("已办结")
    expect(page.locator("section[aria-label=协议书]")).to_contain_text("城关镇某建筑公司")
    shot(page, "settled")
    page.goto("/urgent/")
    expect(page.locator("main")).not_to_contain_text("二十余名工人")  # ended: off the list
