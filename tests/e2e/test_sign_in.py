"""Signing in and out in a real browser: redirect, wrong password, a clerk's areas, sign-out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import shot, sign_in, sign_out
from tests.web.signin import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_stranger_is_sent_to_login(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$|/login\?next=/$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("nav.areas")).to_have_count(0)
    shot(page, "login-form")


def test_wrong_password_is_refused(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill("clerk1")
    page.get_by_label("密码").fill(PASSWORD + "x")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("clerk1")  # kept, password not
    expect(page.get_by_label("密码")).to_have_value("")
    shot(page, "wrong-password")


def test_clerk_signs_in_sees_its_areas_and_signs_out(page: Page) -> None:
    page.goto("/cases/")
    sign_in_from_redirect = page.url
    assert "next=" in sign_in_from_redirect
    page.get_by_label("用户名").fill("clerk1")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/cases/$"))  # back where the clerk was going
    nav = page.get_by_role("navigation", name="功能")
    for area in ("来信登记簿", "扫描登记", "校对", "案件", "答复文书", "工作台"):
        expect(nav.get_by_role("link", name=area)).to_be_visible()
    expect(nav.get_by_role("link", name="系统管理")).to_have_count(0)
    expect(page.locator("header .who")).to_contain_text("登记员")
    shot(page, "clerk-signed-in")

    sign_out(page)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot(page, "signed-out")
    page.goto("/")  # the session is gone: the register is closed again
    expect(page).to_have_url(re.compile(r"/login"))


def test_admin_sees_administration_not_letters(page: Page) -> None:
    sign_in(page, "admin1")
    nav = page.get_by_role("navigation", name="功能")
    expect(nav.get_by_role("link", name="系统管理")).to_be_visible()
    expect(nav.get_by_role("link", name="来信登记簿")).to_have_count(0)
    expect(page.get_by_role("search")).to_have_count(0)
    shot(page, "admin-signed-in")
