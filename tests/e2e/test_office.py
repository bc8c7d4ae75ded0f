"""The office's leftovers in Chromium against the real server: the signing confirmation, a saved
filter applied on the register, the admin's list of wrong query codes, a joint reception day
edited — each step's screenshot looked at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from records import Unit
from tests.e2e.browser import shot, sign_in
from web.services import receptions
from web.services.instance import Instance
from web.services.public_query import QueryRefused, look_up
from web.services.registration import register_written
from web.services.replies import generate_reply

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_leader_confirms_the_document_before_signing(page: Page, e2e_home: Path) -> None:
    with Instance(e2e_home) as instance:
        letter_id = register_written(instance, channel="visit", name="韩秋菊",
                                     text="村道损坏多年无人修，请求修复。", actor="clerk1",
                                     received_on=instance.today() - dt.timedelta(days=2))
        reply_id = generate_reply(instance, letter_id, "acknowledgement", out_dir=None,
                                  actor="clerk1").reply_id
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "leader1")
    page.goto(f"/replies/{reply_id}/sign")
    expect(page.locator("body")).to_contain_text("我已核对右侧文书的内容和收件人")
    expect(page.locator("input[name=password]")).to_have_count(0)  # typed at sign-in just now
    shot(page, "confirm-page")
    page.locator("input[name=confirmed]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="确认签章").click()
    expect(page.locator("p.flash")).to_contain_text("已签章")
    shot(page, "signed")


def test_a_saved_filter_is_applied_on_the_register(page: Page, e2e_home: Path) -> None:
    with Instance(e2e_home) as instance:
        for name, township in (("苗翠兰", "石桥镇"), ("卢振东", "城关镇")):
            register_written(instance, channel="visit", name=name, township=township,
                             text=f"{township}的问题，请求处理。", actor="clerk1")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "clerk1")
    page.goto("/?township=石桥镇")
    page.locator("details.saved-filters summary").click()
    page.locator("details.saved-filters input[name=name]").fill("石桥镇的来信")
    shot(page, "saving")
    with page.expect_navigation():
        page.locator("details.saved-filters button", has_text="保存当前筛选").click()
    expect(page.locator("p.flash")).to_contain_text("已保存筛选")
    page.goto("/")
    page.locator("details.saved-filters summary").click()
    with page.expect_navigation():
        page.locator("details.saved-filters a", has_text="石桥镇的来信").click()
    assert "township=" in page.url
    expect(page.locator("table")).to_contain_text("苗翠兰")
    expect(page.locator("table")).not_to_contain_text("卢振东")
    page.locator("details.saved-filters summary").click()
    shot(page, "applied")


def test_the_admin_sees_the_wrong_query_codes(page: Page, e2e_home: Path) -> None:
    with Instance(e2e_home) as instance:
        for _ in range(4):
            with pytest.raises(QueryRefused):
                look_up(instance, "K7QM-3XZ9-PT2D", "203.0.113.77")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, "admin1")
    page.goto("/admin/query-tries")
    row = page.locator("#query-tries tbody tr", has_text="203.0.113.*")
    expect(row).to_contain_text("4")
    expect(page.locator("body")).not_to_contain_text("203.0.113.77")
    expect(page.locator("body")).not_to_contain_text("K7QM")
    shot(page, "query-tries")


def test_a_joint_reception_day_is_edited(page: Page, e2e_home: Path) -> None:
    with Instance(e2e_home) as instance:
        with instance.db.session() as session:
            session.add(Unit(name="县人社局"))
        reception_id = receptions.add_reception(
            instance, {"leader": "leader1", "place": "县信访局接待大听",
                       # the other walks of this browser's office record today's reception
                       "held_on": str(instance.today() - dt.timedelta(days=3))}, actor="clerk1")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "clerk1")
    page.goto(f"/channels/receptions/{reception_id}")
    page.locator("details.edit-reception summary").click()
    page.locator("details.edit-reception input[name=place]").fill("县联合接访中心")
    page.locator("details.edit-reception label", has_text="县人社局").locator("input").check()
    page.locator("details.edit-reception label", has_text="县自然资源局").locator(
        "input").check()
    shot(page, "editing")
    with page.expect_navigation():
        page.locator("details.edit-reception button[type=submit]").click()
    expect(page.locator("p.flash")).to_contain_text("已修改接待日记录")
    expect(page.locator("h1")).to_contain_text("县联合接访中心")
    expect(page.locator("p.joint")).to_contain_text("县人社局")
    expect(page.locator("body")).to_contain_text("最后修改：clerk1")
    shot(page, "edited")
