"""The page, the API and the command line apply one rule (web.services), not three copies.

Each test here failed before the rules moved into the services: the API searched only the
handler's own unit, a CLI transition left the index with the old status, `case open` ignored the
routing table, and `case assign --lead` took any user.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from records import Case, Unit
from records.routing import assign_owner
from tests.web.app.views.office_data import Office, build
from tests.web.conftest import run, run_json
from tests.web.signin import HANDLER_UNIT, PASSWORD, sign_in
from web.app import create_app
from web.services.case_actions import reindex_case
from web.services.instance import Instance
from web.services.registration import register_written

SUB_UNIT = "县自然资源局石桥所"


@pytest.fixture
def office(home: Path) -> Office:
    return build(home)


@pytest.fixture
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def test_a_handler_finds_the_same_letters_on_the_page_and_through_the_api(
        office: Office, app: Flask) -> None:
    """A case of a sub-unit is the handler's: the page found it, the API did not."""
    with Instance(office.home) as instance:
        with instance.db.session() as session:
            own = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            below = Unit(name=SUB_UNIT, parent_id=own.id, level="township")
            session.add(below)
            session.flush()
            wage = session.get(Case, office.cases["wage"])
            assert wage is not None
            assign_owner(session, wage, below, None, actor="clerk1", reason="属地")
        reindex_case(instance, office.cases["wage"])
    client = sign_in(app.test_client(), "handler1")
    page = client.get("/search?q=工资").get_data(as_text=True)
    on_page = {int(n) for n in re.findall(r'href="/letters/(\d+)"', page)}
    api = app.test_client()
    token = api.post("/api/v1/token", json={"username": "handler1", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    found = api.get("/api/v1/search?q=工资", headers=headers).get_json()
    through_api = {h["letter_id"] for h in found["hits"]}
    assert office.letters["lu"] in on_page
    assert through_api == on_page and found["total"] == len(on_page)


def test_a_cli_transition_reaches_the_search_index(office: Office) -> None:
    home = office.home
    assert run_json(home, "search", "电梯", "--status", "accepted")["total"] == 0
    run_json(home, "case", "transition", str(office.cases["lift"]), "accept", "--told", "当面告知")
    assert run_json(home, "search", "电梯", "--status", "accepted")["total"] == 1
    run_json(home, "case", "assign", str(office.cases["lift"]), "--unit", HANDLER_UNIT,
             "--reason", "属地")
    assert run_json(home, "search", "电梯", "--unit", HANDLER_UNIT)["total"] == 1


def test_case_open_on_the_command_line_applies_the_routing_table(office: Office) -> None:
    home = office.home
    run_json(home, "route", "set", "城关镇", "城乡建设", HANDLER_UNIT)
    with Instance(home) as instance:
        letter_id = register_written(instance, channel="phone", text="小区路灯不亮已两个月。",
                                     name="钟晓岚", township="城关镇", actor="clerk1")
        with instance.db.session() as session:
            from records import intake

            letter = intake.get_letter(session, letter_id)
            letter.category = "城乡建设"
    opened = run_json(home, "case", "open", str(letter_id))
    assert opened["unit"] == HANDLER_UNIT


def test_case_assign_refuses_a_lead_who_is_not_a_leader(office: Office) -> None:
    refused = run(office.home, "case", "assign", str(office.cases["lift"]), "--unit",
                  HANDLER_UNIT, "--lead", "clerk1", "--reason", "属地")
    assert refused.exit_code == 1 and "没有领导" in refused.stderr
    taken = run_json(office.home, "case", "assign", str(office.cases["lift"]), "--unit",
                     HANDLER_UNIT, "--lead", "leader1", "--reason", "属地")
    assert taken["lead"] == "leader1"


@pytest.mark.parametrize(("args", "message"), [
    (("user", "add", "li si", "--role", "clerk", "--no-password"), "不能含空格"),
    (("user", "add", "zhao", "--role", "handler", "--no-password"), "承办人必须属于"),
    (("route", "set", "石桥镇", "*", HANDLER_UNIT, "--lead", "clerk1"), "不是在用的领导账号"),
])
def test_the_command_line_refuses_what_the_admin_page_refuses(
        office: Office, args: tuple[str, ...], message: str) -> None:
    refused = run(office.home, *args)
    assert refused.exit_code == 1 and message in refused.stderr


def test_a_handler_sees_id_numbers_masked_on_the_page_and_through_the_api(
        office: Office, app: Flask) -> None:
    from tests.web.app.views.office_data import ID_HAN

    letter_id = office.letters["han1"]
    page = sign_in(app.test_client(), "handler1").get(f"/letters/{letter_id}")
    assert page.status_code == 200 and "韩秋菊" in page.get_data(as_text=True)
    api = app.test_client()
    token = api.post("/api/v1/token", json={"username": "handler1", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    record = api.get(f"/api/v1/letters/{letter_id}", headers=headers)
    assert record.status_code == 200 and "韩秋菊" in record.get_json()["text"]
    for shown in (page.get_data(as_text=True), record.get_data(as_text=True)):
        assert ID_HAN not in shown and ID_HAN[:6] in shown  # the region stays, the birth goes


def test_the_query_code_and_a_phone_evaluation_agree_on_the_page_the_api_and_the_cli(
        home: Path) -> None:
    """§21 ¶2: one code per matter, whichever door the office uses; the API renews it and
    records a phone evaluation as the CLI and the page do; a handler may not read it."""
    from tests.web.public_matters import make_matter
    from tests.web.signin import add_users

    with Instance(home) as instance:
        instance.create()
    add_users(home)
    with Instance(home) as instance:
        matter = make_matter(instance, 1, answered=True)
    app = create_app({"HUIYIN_HOME": str(home), "TESTING": True})
    page = sign_in(app.test_client(), "clerk1").get(f"/cases/{matter.case_id}")
    assert matter.code in page.get_data(as_text=True)
    api = app.test_client()

    def bearer(username: str) -> dict[str, str]:
        token = api.post("/api/v1/token", json={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {token.get_json()['token']}"}

    clerk = bearer("clerk1")
    url = f"/api/v1/cases/{matter.case_id}/query-code"
    assert api.get(url, headers=clerk).get_json()["code"] == matter.code
    assert run_json(home, "case", "code", matter.case_no)["code"] == matter.code
    assert api.get(url, headers=bearer("handler1")).status_code == 403
    assert api.get("/api/v1/cases/999/query-code", headers=clerk).status_code == 404
    renewed = api.post(url, headers=clerk).get_json()["code"]
    assert renewed != matter.code
    assert run_json(home, "case", "code", matter.case_no)["code"] == renewed
    case = api.get(f"/api/v1/cases/{matter.case_id}", headers=clerk).get_json()
    rated = api.post(f"/api/v1/cases/{matter.case_id}/actions/rate", headers=clerk,
                     json={"version": case["version"], "rating": "满意", "way": "电话",
                           "note": "电话回访"})
    assert rated.status_code == 200 and "电话" in rated.get_json()["message"]
    again = run(home, "case", "rate", matter.case_no, "满意", "--way", "当面")
    assert again.exit_code == 1 and "只评价一次" in again.stderr
    shown = sign_in(app.test_client(), "leader1").get(f"/cases/{matter.case_id}")
    assert "满意（电话" in shown.get_data(as_text=True) and renewed in shown.get_data(
        as_text=True)
