"""The kind of a matter and a letter not accepted again, on the case page in a real browser.

A clerk opens a matter that accuses a village official: the page says 未分类 and proposes
检举控告 with the words that suggest it; the clerk sets it through the form. On a matter a unit
is handling, a second letter within the period is proposed 不予受理 under §19 ¶3 and decided.
Screenshots go to test-artifacts/e2e/test_kind_and_not_again_on_the_case_page/.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from records import Unit, cases, intake
from records.routing import assign_owner
from records.workflow import Stage
from tests.e2e.browser import shot, sign_in
from tests.web.signin import HANDLER_UNIT
from web.services.instance import Instance
from web.services.registration import register_written

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _matters(home: Path) -> tuple[int, int]:
    """An accusation (unclassified), and a matter in hand with a second letter."""
    today = dt.date.today()
    with Instance(home) as instance:
        accusing = register_written(
            instance, channel="mailbox", text="实名举报青山乡柳树村支部书记贪污低保款，请求查处。",
            name="冯德明", phone="13903961234", township="青山乡",
            received_on=today - dt.timedelta(days=2), actor="clerk1")
        first = register_written(
            instance, channel="mailbox", text="宅基地被邻居占用，请求确认界址。", name="晏红梅",
            phone="15237719038", township="李集镇", received_on=today - dt.timedelta(days=30),
            actor="clerk1")
        again = register_written(
            instance, channel="mailbox", text="宅基地的事还没有处理，再次反映。", name="晏红梅",
            phone="15237719038", township="李集镇", received_on=today - dt.timedelta(days=3),
            actor="clerk1")
        with instance.db.session() as session:
            accusation = cases.open_case(session, intake.get_letter(session, accusing),
                                         actor="clerk1")
            land = cases.open_case(session, intake.get_letter(session, first), actor="clerk1")
            cases.link_letter(session, intake.get_letter(session, again), land, actor="clerk1")
            unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            assign_owner(session, land, unit, None, actor="clerk1", reason="属地")
            land.status, land.accepted_on = Stage.HANDLING.value, today - dt.timedelta(days=28)
            session.flush()
            return accusation.id, land.id


def test_kind_and_not_again_on_the_case_page(page: Page, e2e_home: Path) -> None:
    accusation, land = _matters(e2e_home)
    sign_in(page, "clerk1")
    page.goto(f"/cases/{accusation}")
    kind = page.locator("dd.matter-kind")
    expect(kind).to_contain_text("未分类")
    expect(kind).to_contain_text("建议：检举控告")
    expect(kind).to_contain_text("贪污")
    shot(page, "unclassified-with-proposal")
    form = page.locator("details").filter(has=page.locator("summary", has_text="确定事项类别"))
    form.locator("summary").click()
    form.get_by_label("类别").select_option("检举控告")
    form.get_by_label("申诉求决属第三十一条").select_option("")
    form.get_by_role("button", name="确定事项类别").click()
    expect(page.locator("dd.matter-kind")).to_contain_text("检举控告")
    expect(page.locator("dd.matter-kind")).to_contain_text("没有复查、复核")
    shot(page, "classified")

    page.goto(f"/cases/{land}")
    section = page.locator("section.not-again")
    expect(section).to_contain_text("建议依《信访工作条例》第十九条第三款不予受理")
    shot(page, "not-again-proposed")
    form = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile("^再次来信不予受理$")))
    form.locator("summary").click()
    form.get_by_role("button", name="再次来信不予受理").click()
    expect(page.locator("section.not-again")).to_contain_text("已依《信访工作条例》第十九条第三款")
    shot(page, "not-again-decided")
