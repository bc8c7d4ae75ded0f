"""The case pages through the real app: lists and clocks, scope, the state machine, audit,
optimistic locking (409), §30 refusals."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import AuditEvent, Case, Unit, cases
from records.routing import mark_accusation
from records.workflow import due_on
from tests.web.app.views.office_data import OTHER_UNIT, Office, build, copy
from tests.web.signin import HANDLER_UNIT, sign_in
from web.app import create_app
from web.services import case_actions
from web.services.instance import Instance


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Office:
    return build(tmp_path_factory.mktemp("cases") / "instance")


@pytest.fixture
def office(template: Office, tmp_path: Path) -> Office:
    """A fresh copy of the small office for each test (actions change it)."""
    return copy(template, tmp_path)


@pytest.fixture
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def client(app: Flask, username: str) -> FlaskClient:
    return sign_in(app.test_client(), username)


def form_of(c: FlaskClient, case_id: int) -> dict[str, str]:
    """The hidden fields a case page's forms carry (CSRF token, version, last event seen)."""
    html = c.get(f"/cases/{case_id}").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|version|seen_event)" value="([^"]*)"', html))
    assert {"csrf_token", "version", "seen_event"} <= set(fields), html[:1500]
    return fields


def post(c: FlaskClient, case_id: int, action: str, **data: str):  # type: ignore[no-untyped-def]
    fields = {**form_of(c, case_id), **data}
    return c.post(f"/cases/{case_id}/actions/{action}", data=fields)


def stage(office: Office, key: str) -> str:
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, office.cases[key])
        assert case is not None
        return case.status


def unit_id(office: Office, name: str) -> int:
    with Instance(office.home) as instance, instance.db.session() as session:
        return session.scalars(select(Unit.id).where(Unit.name == name)).one()


def test_list_shows_each_cases_clock_and_filters(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    html = c.get("/cases/").get_data(as_text=True)
    assert "共 3 件" in html
    assert re.search(r"XF-\d{4}-000001.*?转送、交办或受理并书面告知.*?(\d+ 天|逾期)", html, re.S)
    # 韩秋菊's case was received 20 days ago: past the 15-day routing duty
    assert "逾期" in html
    overdue = c.get("/cases/", query_string={"due": "overdue"}).get_data(as_text=True)
    assert "共 1 件" in overdue and "XF-" in overdue
    by_unit = c.get("/cases/", query_string={"unit": unit_id(office, OTHER_UNIT)})
    assert "共 1 件" in by_unit.get_data(as_text=True)
    unowned = c.get("/cases/", query_string={"unit": "none"}).get_data(as_text=True)
    assert "共 1 件" in unowned
    closed = c.get("/cases/", query_string={"status": "closed"}).get_data(as_text=True)
    assert "共 0 件" in closed


def test_a_handler_sees_and_acts_on_its_units_cases_only(app: Flask, office: Office) -> None:
    c = client(app, "handler1")
    html = c.get("/cases/").get_data(as_text=True)
    assert "共 1 件" in html
    assert c.get(f"/cases/{office.cases['land']}").status_code == 200
    assert c.get(f"/cases/{office.cases['wage']}").status_code == 404
    assert c.get(f"/cases/{office.cases['lift']}").status_code == 404
    token = form_of(c, office.cases["land"])["csrf_token"]
    refused = c.post(f"/cases/{office.cases['wage']}/actions/start",
                     data={"csrf_token": token, "version": "1"})
    assert refused.status_code == 404
    assert stage(office, "wage") == "registered"


def test_accept_then_start_follows_the_state_machine_and_is_audited(
        app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    case_id = office.cases["land"]
    page = c.get(f"/cases/{case_id}").get_data(as_text=True)
    # only what is legal from 已登记 is offered: no 延期 or 办结 yet
    assert "/actions/accept" in page and "/actions/not_accept" in page
    assert "/actions/extend" not in page and "/actions/close" not in page
    untold = post(c, case_id, "accept", reason="属本单位职责")  # no notice, no document
    assert untold.status_code == 422 and "受理告知书" in untold.get_data(as_text=True)
    done = post(c, case_id, "accept", reason="属本单位职责", told="当面告知")
    assert done.status_code == 303
    assert stage(office, "land") == "accepted"
    shown = c.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已受理" in shown and "受理" in shown and "属本单位职责" in shown
    with Instance(office.home) as instance, instance.db.session() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "transition", AuditEvent.entity_id == case_id)).one()
        assert event.actor == "clerk1" and event.detail["step"] == "accept"
    # the index now holds the new status of the case's letters
    found = c.get("/search", query_string={"q": "征地", "status": "accepted"})
    assert "共 2 件" in found.get_data(as_text=True)
    handler = client(app, "handler1")
    assert post(handler, case_id, "start").status_code == 303
    assert stage(office, "land") == "handling"
    # §34: the handler asks, the organ's 负责人 approves; a handler cannot extend alone
    assert post(handler, case_id, "extend").status_code == 403
    assert post(handler, case_id, "ask_extension", days="20",
                reason="需要现场勘查").status_code == 303
    assert post(client(app, "leader1"), case_id, "extend").status_code == 303
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.extension_days == 20
        assert case.extension_approved_by == "leader1"


def test_an_illegal_action_is_refused_and_changes_nothing(app: Flask, office: Office) -> None:
    c = client(app, "leader1")
    case_id = office.cases["land"]
    refused = post(c, case_id, "reply", decision="支持")
    assert refused.status_code == 422
    assert "不能出具处理意见" in refused.get_data(as_text=True)
    assert stage(office, "land") == "registered"
    unknown = post(c, case_id, "explode")
    assert unknown.status_code == 422
    extend_without_reason = post(c, case_id, "not_accept")
    assert extend_without_reason.status_code == 422
    assert "请填写理由" in extend_without_reason.get_data(as_text=True)


def test_a_role_takes_only_its_own_actions(app: Flask, office: Office) -> None:
    handler = client(app, "handler1")
    case_id = office.cases["land"]
    assert "/actions/accept" not in handler.get(f"/cases/{case_id}").get_data(as_text=True)
    assert post(handler, case_id, "accept").status_code == 403
    assert post(handler, case_id, "instruct", leader="x", text="y", actions="z").status_code == 403
    leader = client(app, "leader1")
    assert post(leader, case_id, "instruct", leader="王建军", text="请尽快核实",
                actions="核实补偿标准\n书面答复").status_code == 303
    page = handler.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "请尽快核实" in page and "核实补偿标准" in page and "领导批示" in page
    assert client(app, "admin1").get(f"/cases/{case_id}").status_code == 403


def test_a_stale_version_gets_409_with_what_changed(app: Flask, office: Office) -> None:
    first, second = client(app, "clerk1"), client(app, "leader1")
    case_id = office.cases["lift"]
    old = form_of(second, case_id)  # the leader opens the page ...
    assert post(first, case_id, "accept", told="当面告知",
                reason="本单位职责").status_code == 303  # ... the clerk acts meanwhile
    stale = second.post(f"/cases/{case_id}/actions/not_accept",
                        data={**old, "reason": "不属于信访事项"})
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "已被修改" in html and "受理" in html and "clerk1" in html
    assert stage(office, "lift") == "accepted"
    with Instance(office.home) as instance, instance.db.session() as session:
        assert not session.scalars(select(AuditEvent).where(
            AuditEvent.actor == "leader1", AuditEvent.action == "transition")).all()


def test_an_accusation_is_never_sent_to_the_accused(app: Flask, office: Office) -> None:
    case_id = office.cases["lift"]
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, case_id)
        accused = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        assert case is not None
        mark_accusation(session, case, accused_unit=accused, accused_person=None, actor="clerk1")
    c = client(app, "clerk1")
    # the unit is chosen first (the 交办 itself is the signing of the 交办单)
    refused = post(c, case_id, "owner", unit=str(unit_id(office, HANDLER_UNIT)), reason="x")
    assert refused.status_code == 422
    assert "第三十条" in refused.get_data(as_text=True)
    assert post(c, case_id, "owner", unit=str(unit_id(office, OTHER_UNIT)),
                reason="另一单位").status_code == 303
    unsigned = post(c, case_id, "assign", unit=str(unit_id(office, OTHER_UNIT)), reason="y")
    assert unsigned.status_code == 422 and "交办单" in unsigned.get_data(as_text=True)
    assert stage(office, "lift") == "registered"


def test_case_page_shows_letters_deadline_and_timeline(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    case_id = office.cases["land"]
    html = c.get(f"/cases/{case_id}").get_data(as_text=True)
    assert html.count("/letters/") >= 2  # both of 韩秋菊's letters
    assert "转送、交办或受理并书面告知" in html and "逾期" in html
    assert "立案" in html and "关联来信" in html and "指定承办单位" in html
    assert HANDLER_UNIT in html
    assert c.get("/cases/99999").status_code == 404


def test_the_service_is_usable_without_the_pages(office: Office) -> None:
    with Instance(office.home) as instance:
        outcome = case_actions.act(instance, office.cases["wage"], "accept",
                                   {"told": "信访人匿名"}, actor="api", role="clerk",
                                   expected_version=_version(office, "wage"))
        assert outcome.stage == "accepted"
        with pytest.raises(case_actions.StaleCase):
            case_actions.act(instance, office.cases["wage"], "start", {}, actor="api",
                             role="clerk", expected_version=outcome.version - 1)
        with instance.db.session() as session:
            case = session.get(Case, office.cases["wage"])
            assert case is not None and cases.deadline(case, instance.calendar) is not None


def _version(office: Office, key: str) -> int:
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, office.cases[key])
        assert case is not None
        return case.version


def test_supervision_hearing_and_flags_are_recorded(app: Flask, office: Office) -> None:
    clerk, handler = client(app, "clerk1"), client(app, "handler1")
    case_id = office.cases["land"]
    assert post(clerk, case_id, "supervise", kind="reminder", text="请加快办理").status_code == 303
    page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    item = re.search(r'name="item" value="(\d+)"', page)
    assert item and "催办" in page and "请加快办理" in page
    assert post(clerk, case_id, "resolve", item=item.group(1)).status_code == 303
    assert "已办结" in clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert post(handler, case_id, "supervise", kind="note", text="x").status_code == 403
    assert post(clerk, case_id, "flag", **{"flag_重复": "1"}, reason="同一事项").status_code == 303
    assert "重复" in clerk.get("/cases/", query_string={"flag": "重复"}).get_data(as_text=True)
    # a hearing is recorded at any stage; only during 复核 is its time outside a period
    held = post(handler, case_id, "hearing", kind="hearing", start=str(_today(office)))
    assert held.status_code == 303
    assert post(clerk, case_id, "accept", told="当面告知").status_code == 303
    assert post(handler, case_id, "hearing", kind="joint_meeting",
                start=str(_today(office)), note="联席会议").status_code == 303
    with Instance(office.home) as instance, instance.db.session() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "case", AuditEvent.entity_id == case_id)))
    assert {"supervise-reminder", "supervision-resolved", "flag", "joint-meeting"} <= actions


def _today(office: Office):  # type: ignore[no-untyped-def]
    with Instance(office.home) as instance:
        return instance.today()


def test_the_page_corrects_the_receipt_date_and_says_why_an_action_is_refused(
        app: Flask, office: Office) -> None:
    """The clerk enters the postmark's date with its basis and reason; the clock recounts from
    it; each action refused today is listed with the reason (records.workflow.agenda)."""
    clerk = client(app, "clerk1")
    case_id = office.cases["lift"]
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        letter_id, scanned = case.letters[0].id, case.letters[0].received_on
    postmark = scanned - dt.timedelta(days=3)
    future = post(clerk, case_id, "receipt", letter=str(letter_id), basis="邮戳",
                  on=str(_today(office) + dt.timedelta(days=1)), reason="x")
    assert future.status_code == 422
    done = post(clerk, case_id, "receipt", letter=str(letter_id), basis="邮戳",
                on=str(postmark), reason="信封邮戳早三天")
    assert done.status_code == 303
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.opened_on == postmark
        due = cases.deadline(case, instance.calendar)
        assert due is not None and due.due == due_on(postmark, 15, instance.calendar)
    page = clerk.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "第二十二条" in page and str(due.due) in page
    assert "当面告知" in page and "信访人匿名" in page  # how a step may be made without a notice
    assert post(clerk, case_id, "accept", told="当面告知").status_code == 303
    assert "今天不能批准延期：" in client(app, "leader1").get(f"/cases/{case_id}").get_data(
        as_text=True)
    rated = post(clerk, case_id, "rate", rating="满意")  # only once the matter is answered
    assert rated.status_code == 422
