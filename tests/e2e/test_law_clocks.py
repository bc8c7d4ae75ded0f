"""What the law asks, in a real browser: each kind's clock on the case page (§34 only for §31
item (六), the office's own period for a 建议意见), the 工作台 of an accused unit's leader
(§30 ¶3: never counting the accusation), and a visit headed as a visit.
Screenshots go to test-artifacts/e2e/<test name>/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from records import Unit, User, cases, intake, kinds
from records.routing import assign_owner, mark_accusation
from records.workflow import Stage
from tests.e2e.browser import shot, sign_in, sign_out
from tests.web.signin import HANDLER_UNIT, PASSWORD
from web.services.access import hash_password
from web.services.instance import Instance
from web.services.registration import register_written

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ACCUSED_LEADER = "leader7"


def _matter(instance: Instance, text: str, name: str, *, days_ago: int,
            channel: str = "visit") -> int:
    return register_written(instance, channel=channel, text=text, name=name,
                            phone="13903961234", township="青山乡",
                            received_on=dt.date.today() - dt.timedelta(days=days_ago),
                            actor="clerk1")


def _set_up(home: Path) -> dict[str, int]:
    """A 建议意见 and a §31 (六) matter in hand, both assigned 20 days ago; an accusation of
    the handler's unit, overdue, held by another unit; a leader of the accused unit."""
    today = dt.date.today()
    with Instance(home) as instance:
        suggestion = _matter(instance, "建议在柳树村口安装路灯，方便群众夜间出行。", "秦立新",
                             days_ago=25)
        claim = _matter(instance, "危房改造补助一直没有发放，请求解决。", "马桂兰", days_ago=25)
        accusing = _matter(instance, "实名举报县自然资源局工作人员收受好处费。", "冯德明",
                           days_ago=40, channel="mailbox")
        with instance.db.session() as session:
            unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            other = session.scalars(select(Unit).where(Unit.name == "县纪委监委")).first()
            if other is None:
                other = Unit(name="县纪委监委")
                session.add(other)
            if session.scalars(select(User).where(User.username == ACCUSED_LEADER)).first() \
                    is None:
                session.add(User(username=ACCUSED_LEADER, display_name=ACCUSED_LEADER,
                                 role="leader", unit_id=unit.id,
                                 password_hash=hash_password(PASSWORD)))
            session.flush()
            made = {}
            for key, letter_id, kind, item in (("suggestion", suggestion, kinds.SUGGESTION, None),
                                               ("claim", claim, kinds.CLAIM, 6)):
                case = cases.open_case(session, intake.get_letter(session, letter_id),
                                       actor="clerk1")
                assign_owner(session, case, unit, None, actor="clerk1", reason="属地")
                cases.classify(session, case, kind, item, actor="clerk1")
                case.status = Stage.HANDLING.value
                case.assigned_on = today - dt.timedelta(days=20)
                case.accepted_on = today - dt.timedelta(days=15)
                made[key] = case.id
            accusation = cases.open_case(session, intake.get_letter(session, accusing),
                                         actor="clerk1")
            assign_owner(session, accusation, other, None, actor="clerk1", reason="纪检监察")
            mark_accusation(session, accusation, accused_unit=unit, accused_person=None,
                            actor="clerk1")
            made["accusation"], made["visit"] = accusation.id, suggestion
            return made


def _overdue(page: Page) -> int:
    return int(page.locator(".card.overdue .big").inner_text())


def test_each_kind_its_clock_the_accused_never_counted_and_a_visit_named(
        page: Page, e2e_home: Path) -> None:
    made = _set_up(e2e_home)
    sign_in(page, "clerk1")
    page.goto(f"/cases/{made['suggestion']}")
    clocks = page.get_by_role("region", name="期限")
    expect(clocks).to_contain_text("研究论证并予以回复（第二十九条）")
    expect(clocks).to_contain_text("本办指定的办理期限")
    expect(clocks).not_to_contain_text("第三十四条")
    shot(page, "suggestion-office-period")
    page.goto(f"/cases/{made['claim']}")
    clocks = page.get_by_role("region", name="期限")
    expect(clocks).to_contain_text("出具信访处理意见书")
    expect(clocks).to_contain_text("《信访工作条例》第三十四条")
    shot(page, "item-six-section-34")

    page.goto("/dashboard/")
    clerk = _overdue(page)
    shot(page, "dashboard-clerk")
    sign_out(page)
    sign_in(page, ACCUSED_LEADER)
    page.goto("/dashboard/")
    assert clerk - _overdue(page) == 1  # the accusation, overdue, is the one difference
    shot(page, "dashboard-accused-units-leader")
    sign_out(page)
    sign_in(page, "handler1")
    page.goto("/dashboard/")
    shot(page, "dashboard-accused-units-handler")

    sign_out(page)
    sign_in(page, "clerk1")
    page.goto(f"/letters/{made['visit']}")
    expect(page.locator("h1")).to_contain_text("来访 ")
    expect(page.locator("h1")).not_to_contain_text("来信")
    expect(page.locator("dl.meta").first).to_contain_text("登记日期")
    shot(page, "visit-page")
