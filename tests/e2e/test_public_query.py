"""The petitioner's query page in a real browser (§21 ¶2): a phone first, then a desk.

Query by code, evaluate once, a wrong code, then the per-address limit (last: it shuts this
browser's address out for an hour). The clerk's side: the code on the case page and a phone
evaluation recorded through the case's form.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import share_shots, shot, sign_in
from tests.web.public_matters import ID_NUMBER, NAME, PHONE, TEXT, Matter, make_matter
from web.services.instance import Instance

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PHONE_SCREEN = {"width": 390, "height": 844}
# not the name of the e2e scans (tests/web/conftest.py LETTERS), which later tests search for
PETITIONER = "欧阳明轩"


@pytest.fixture(scope="module")
def matters(e2e_home: Path) -> dict[str, Matter]:
    with Instance(e2e_home) as instance:
        text = TEXT.replace(NAME, PETITIONER)
        return {"mine": make_matter(instance, 901, answered=True, text=text, name=PETITIONER),
                "by_phone": make_matter(instance, 902, answered=True, text=text,
                                        name=PETITIONER)}


def _ask(page: Page, code: str) -> None:
    page.goto("/query/")
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()


def test_a_petitioner_queries_evaluates_once_mistypes_and_is_stopped(
        browser: Browser, server: str, page: Page, matters: dict[str, Matter]) -> None:
    mine = matters["mine"]
    phone = share_shots(browser.new_context(base_url=server, locale="zh-CN",
                                            viewport=PHONE_SCREEN).new_page(), page)
    _ask(phone, mine.code.lower().replace("-", " "))  # typed loosely on a phone
    matter = phone.get_by_role("region", name="办理情况")
    expect(matter).to_contain_text(mine.case_no)
    expect(matter).to_contain_text("已出具信访处理意见书")
    expect(matter).to_contain_text(re.compile(r"如不服，可于 \d{4}-\d\d-\d\d 前请求复查"))
    expect(matter).to_contain_text(mine.doc_number or "")
    for secret in (PETITIONER, ID_NUMBER, PHONE):
        expect(phone.locator("body")).not_to_contain_text(secret)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SCREEN["width"], f"the page is {width}px wide on a 390px phone"
    shot(phone, "phone-query-result")

    _ask(page, mine.code)  # the same matter open at a desk, its form not yet sent
    expect(page.get_by_role("button", name="提交评价")).to_be_visible()
    phone.get_by_label("基本满意").check()
    phone.get_by_label("意见（可不填，500字以内）").fill("答复及时，补偿款已到账一半")
    phone.get_by_role("button", name="提交评价").click()
    expect(phone.get_by_role("status")).to_have_text("感谢您的评价，已记录。")
    expect(matter).to_contain_text("评价为基本满意（网上）")
    expect(phone.get_by_role("button", name="提交评价")).to_have_count(0)
    shot(phone, "phone-evaluated")
    page.get_by_label("不满意").check()  # the desk's form, sent second: refused
    page.get_by_role("button", name="提交评价").click()
    desk = page.get_by_role("region", name="办理情况")
    expect(desk.get_by_role("alert")).to_contain_text("每件事项只评价一次")
    expect(desk).to_contain_text("评价为基本满意（网上）")
    shot(page, "desk-second-evaluation-refused")

    _ask(page, "K7QM-3XZ9-PT2D")
    expect(page.get_by_role("alert")).to_contain_text("查询码不正确")
    expect(page.get_by_role("region", name="办理情况")).to_have_count(0)
    shot(page, "wrong-code")
    for _ in range(9):  # ten wrong codes in all within the hour
        _ask(page, "0000-0000-0000")
    _ask(page, mine.code)  # then even the right code waits
    expect(page.get_by_role("alert")).to_contain_text("输错次数过多")
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"请于\d{4}-\d\d-\d\d \d\d:\d\d以后再试"))
    shot(page, "rate-limited")
    _ask(phone, mine.code)
    expect(phone.get_by_role("alert")).to_contain_text("输错次数过多")
    shot(phone, "phone-rate-limited")
    phone.context.close()


def test_the_clerk_reads_out_the_code_and_records_a_phone_evaluation(
        page: Page, matters: dict[str, Matter]) -> None:
    by_phone = matters["by_phone"]
    sign_in(page, "clerk1")
    page.goto(f"/cases/{by_phone.case_id}")
    code = page.get_by_role("region", name="查询码")
    expect(code).to_contain_text(by_phone.code)
    expect(code).to_contain_text("/query")
    page.locator("summary", has_text="登记信访人评价").click()
    form = page.locator("form", has=page.locator("select[name=way]"))
    form.locator("select[name=rating]").select_option("不满意")
    form.locator("select[name=way]").select_option("电话")
    form.locator("input[name=note]").fill("电话回访：补偿款尚未到账")
    form.get_by_role("button", name="登记信访人评价").click()
    expect(page.locator(".flash")).to_contain_text("已登记信访人评价：不满意（电话）")
    expect(page.locator("dl.meta").first).to_contain_text("不满意（电话")
    shot(page, "case-page-code-and-phone-evaluation")
    page.get_by_role("button", name="重新生成查询码（原码作废）").click()
    expect(page.locator(".flash")).to_contain_text("原查询码已作废")
    expect(code).not_to_contain_text(by_phone.code)
    shot(page, "code-renewed")
