"""The review screen marks the characters the recogniser was unsure of and takes one of its
other readings with one key, in Chromium against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from records import Letter, intake
from tests.e2e.browser import shot, sign_in
from web.services.instance import Instance

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BOX = [[10, 10], [400, 10], [400, 60], [10, 60]]


def _letter_read_with_a_doubt(home: Path) -> int:
    """A letter whose second line the OCR read 个人被久工资, unsure of 久 (欠 and 次 next)."""
    with Instance(home) as instance, instance.db.session() as session:
        letter = intake.register_letter(session, sha256="e" * 64, source_name="doubt.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=instance.today(), actor="clerk1")
        intake.save_page(session, letter, number=1, width=1654, height=2339, source="ocr",
                         engine="rapidocr", lines=[
                             {"text": "县信访局领导：", "box": BOX, "score": 0.99,
                              "conf": [0.99] * 7, "alt": [[]] * 7},
                             {"text": "个人被久工资", "box": BOX, "score": 0.95,
                              "conf": [0.99, 0.99, 0.98, 0.41, 0.99, 0.99],
                              "alt": [[], [], [], [["欠", 0.38], ["次", 0.1]], [], []]}])
        intake.finish_reading(session, letter)
        found = session.get(Letter, letter.id)
        assert found is not None
        return found.id


def test_a_doubtful_character_is_marked_and_replaced_with_one_key(
        page: Page, e2e_home: Path) -> None:
    letter_id = _letter_read_with_a_doubt(e2e_home)
    sign_in(page, "clerk1")
    page.goto(f"/review/letters/{letter_id}")
    line = page.locator("li.line").nth(1)
    mark = line.locator("mark.doubt")
    expect(mark).to_have_text("久")
    expect(mark).to_have_attribute("title", "识别把握不大，也可能是：欠、次")
    expect(line.locator(".alts")).to_contain_text("欠")
    expect(page.locator("li.line").nth(0).locator("mark.doubt")).to_have_count(0)
    shot(page, "marked")
    page.keyboard.press("j")  # the second line
    page.keyboard.press("1")
    expect(line.locator(".text")).to_have_text("个人被欠工资")
    expect(line.locator(".ocr del")).to_have_text("个人被久工资")  # the OCR's reading kept
    shot(page, "taken")
    page.reload()
    expect(page.locator("li.line").nth(1).locator(".text")).to_have_text("个人被欠工资")
    expect(page.locator("li.line").nth(1).locator("mark.doubt")).to_have_count(0)
