"""A working day in a real browser, against the real server and its background worker.

The clerk signs in, uploads two scans on the intake page, waits for OCR, corrects a line on
the review screen and files the letter with a new case; finds it by the petitioner's name;
names the handler's unit as the case's owner; the handler records a note with a photo; the
clerk drafts the acknowledgement (受理告知书); a leader confirms and signs it; the signed PDF
is checked on the public verification page; the clerk records its delivery; the dashboard's
counts follow. A screenshot of every step goes to test-artifacts/e2e/test_working_day/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import share_shots, shot, sign_in
from tests.web.conftest import ID_NUMBERS, LETTERS, draw
from tests.web.signin import HANDLER_UNIT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

OCR_TIMEOUT_MS = 300_000  # two pages of OCR on a loaded 2-core machine, worker start included


def scans(folder: Path) -> list[Path]:
    """Two handwritten-looking letters as a scanner writes them (a JPEG and a PDF)."""
    return [draw(folder, *LETTERS[k], fmt=fmt, seed=40 + k, id_number=ID_NUMBERS[k])
            for k, fmt in ((0, "jpg"), (1, "pdf"))]


def document_pages_shown(page: Page) -> None:
    """Wait until every page image of the reply's document has loaded (rendered from the PDF)."""
    expect(page.locator(".preview .pages img").first).to_be_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.preview .pages img')]"
        ".every(i => i.complete && i.naturalWidth > 0)", timeout=120_000)


def dashboard_figures(page: Page) -> dict[str, int]:
    """工作台 through the menu: letters without a reply, and cases received this period."""
    page.get_by_role("navigation", name="功能").get_by_role("link", name="工作台").click()
    expect(page.get_by_role("heading", name=re.compile("工作台"))).to_be_visible()
    without_reply = page.locator(".card.without_reply .big").inner_text()
    period = page.locator("#rates-h small").inner_text()
    cases = re.search(r"收到的事项\s*(\d+)\s*件", period)
    assert cases, period
    return {"without_reply": int(without_reply.strip()), "cases": int(cases.group(1))}


def act(page: Page, action: str, **fields: str) -> None:
    """Take one action on the case page: open its form, fill it, submit."""
    form = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile(f"^{action}$")))
    form.locator("summary").click()
    if "unit" in fields:
        form.get_by_label("承办单位").select_option(label=fields["unit"])
    if "reason" in fields:
        form.get_by_label(re.compile("^理由")).fill(fields["reason"])
    form.get_by_role("button", name=action).click()


def test_working_day(page: Page, browser: Browser, server: str, tmp_path: Path) -> None:
    name, phone = LETTERS[0][0], LETTERS[0][1]

    # 1. sign in as the clerk; the dashboard before the day's work
    sign_in(page, "clerk1")
    shot(page, "signed-in")
    before = dashboard_figures(page)
    shot(page, "dashboard-before")

    # 2. upload two scans on the intake page and wait for OCR and indexing
    page.get_by_role("navigation", name="功能").get_by_role("link", name="扫描登记").click()
    expect(page.get_by_role("heading", name=re.compile("扫描登记"))).to_be_visible()
    page.locator("#files").set_input_files([str(p) for p in scans(tmp_path)])
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(2)
    shot(page, "uploading")
    expect(page.locator('#queue tbody tr[data-state="indexed"]')).to_have_count(
        2, timeout=OCR_TIMEOUT_MS)
    expect(rows.first.get_by_role("link", name="去校对")).to_be_visible()
    reg_no = rows.first.locator(".reg").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{6}", reg_no), reg_no
    shot(page, "read-and-indexed")

    # 3. the review screen: correct one line, keep the machine's reading beside it
    rows.first.get_by_role("link", name="去校对").click()
    expect(page.get_by_role("heading", name=re.compile(f"校对 {reg_no}"))).to_be_visible()
    first_line = page.locator("li.line").first
    machine_text = first_line.locator(".text").inner_text()
    corrected = "尊敬的县信访局领导同志："
    assert corrected != machine_text
    first_line.locator(".text").click()
    line_input = page.get_by_label("第 1 页第 1 行")
    line_input.fill(corrected)
    shot(page, "correcting-a-line")
    line_input.press("Enter")
    expect(first_line).to_have_class(re.compile(r"\bedited\b"))
    expect(first_line.locator(".text")).to_have_text(corrected)
    expect(first_line.locator(".ocr del")).to_have_text(machine_text)
    shot(page, "line-corrected")

    # 4. registration details and a new case for the letter
    page.get_by_label("第 1 位信访人姓名").fill(name)
    page.get_by_label("第 1 位信访人电话").fill(phone)
    page.get_by_label("乡镇（街道）").fill("石桥镇")
    page.get_by_label(re.compile("新建案件")).check()
    doubtful = page.locator("#low-lines-checked")
    if doubtful.count():  # lines the reader was unsure of: looked at on the scan, confirmed
        doubtful.check()
    shot(page, "new-case-chosen")
    page.get_by_role("button", name=re.compile("保存并进入下一件")).click()
    expect(page.locator(".error")).to_have_count(0)
    shot(page, "saved-next-letter")

    # 5. search by the petitioner's name and open the letter; it now belongs to a case
    search = page.get_by_role("searchbox", name="检索来信")
    search.fill(name)
    search.press("Enter")
    letter_link = page.get_by_role("link", name=reg_no, exact=True)
    hit = page.locator("article.hit").filter(has=letter_link)
    expect(hit).to_have_count(1)
    expect(hit.locator(".case-tag")).to_contain_text("XF-")
    shot(page, "search-found-it")
    hit.get_by_role("link", name=reg_no, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"来信 {reg_no}"))).to_be_visible()
    case_link = page.get_by_role("region", name="信访事项").get_by_role("link",
                                                                        name=re.compile("XF-"))
    case_no = case_link.inner_text().strip()
    shot(page, "letter-with-case")
    letter_url = page.url
    case_link.click()
    expect(page.get_by_role("heading", name=re.compile(case_no))).to_be_visible()
    case_url = page.url
    shot(page, "case")

    # 5b. the office names the handler's unit as the case's owner
    act(page, "指定承办单位、包案领导", unit=HANDLER_UNIT, reason="属地管理")
    expect(page.locator(".flash")).to_contain_text(HANDLER_UNIT)
    shot(page, "owner-named")

    # 5c. the handler records a note with the survey's photo
    handler_context = browser.new_context(base_url=server, locale="zh-CN",
                                          viewport={"width": 1366, "height": 768})
    try:
        handler = share_shots(handler_context.new_page(), page)
        handler.set_default_timeout(15_000)
        sign_in(handler, "handler1")
        handler.goto(case_url)
        photo = tmp_path / "现场照片.jpg"
        photo.write_bytes(scans(tmp_path)[0].read_bytes())
        handler.locator("#note-text").fill("已到现场核实，补偿款尚欠两万八千元")
        handler.get_by_label("附件").set_input_files(str(photo))
        handler.get_by_role("button", name="记录").click()
        notes = handler.locator("ol.notes li")
        expect(notes.first).to_contain_text("已到现场核实")
        expect(notes.first).to_contain_text("现场照片.jpg")
        shot(handler, "handler-note-and-photo")
    finally:
        handler_context.close()

    # 6. draft the acknowledgement (受理告知书) from the letter
    page.goto(letter_url)
    page.get_by_role("link", name="起草答复").first.click()
    page.get_by_role("navigation", name="选择文书").get_by_role(
        "link", name="受理告知书", exact=True).click()
    expect(page.locator("#reply-form")).to_be_visible()
    shot(page, "drafting-acknowledgement")
    page.get_by_role("button", name=re.compile("生成文书")).click()
    expect(page.get_by_text("待签章").first).to_be_visible(timeout=120_000)
    reply_url = page.url
    assert re.search(r"/replies/\d+$", reply_url), reply_url
    document_pages_shown(page)
    shot(page, "generated-awaiting-signature")

    # 7. the leader signs it
    leader_context = browser.new_context(base_url=server, locale="zh-CN",
                                         viewport={"width": 1280, "height": 900})
    try:
        leader = share_shots(leader_context.new_page(), page)
        leader.set_default_timeout(15_000)
        sign_in(leader, "leader1")
        leader.goto(reply_url)
        leader.get_by_role("link", name="签章…").click()
        expect(leader.get_by_role("img", name="第 1 页")).to_be_visible()  # the page to sign
        shot(leader, "confirming-signature")
        leader.get_by_label("我已核对右侧文书的内容和收件人").check()
        leader.get_by_role("button", name="确认签章").click()
        expect(leader.get_by_text("已签章").first).to_be_visible(timeout=120_000)
        document_pages_shown(leader)
        shot(leader, "signed-by-leader")

        # 8. download the signed PDF and check it on the public verification page
        href = leader.get_by_role("link", name="签章 PDF").get_attribute("href")
        assert href
        response = leader_context.request.get(href)
        assert response.ok, response.status
        pdf = tmp_path / "signed.pdf"
        pdf.write_bytes(response.body())
        assert pdf.read_bytes().startswith(b"%PDF")
    finally:
        leader_context.close()
    public = browser.new_context(base_url=server, locale="zh-CN")
    try:
        check = share_shots(public.new_page(), page)
        check.goto("/verify/")
        check.locator('input[name="pdf"]').set_input_files(str(pdf))
        check.get_by_role("button", name="验证").click()
        expect(check.locator(".ok")).to_contain_text("有效")
        shot(check, "verified-on-public-page")
    finally:
        public.close()

    # 8b. the clerk records the delivery (送达) of the signed reply
    page.goto(reply_url)
    page.get_by_label("邮寄").check()
    page.get_by_role("button", name="登记送达").click()
    expect(page.locator(".flash")).to_contain_text("已登记送达")
    shot(page, "delivered")

    # 9. the clerk's dashboard: two letters came, one has its answer; one case was opened
    after = dashboard_figures(page)
    shot(page, "dashboard-after")
    assert after == {"without_reply": before["without_reply"] + 1,
                     "cases": before["cases"] + 1}, (before, after)
