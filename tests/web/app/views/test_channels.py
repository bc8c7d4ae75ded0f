"""The pages of registration (来访/来电/信箱/网上), 领导接待日, 调解/和解 on the case page and the
重大紧急 list, through the real app; and the API and the CLI reaching the same services."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from records import Case, Letter
from tests.web.app.views.office_data import Office, build, copy
from tests.web.signin import PASSWORD, csrf_token, sign_in
from web.app import create_app
from web.cli import main
from web.services.instance import Instance

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
ID_NUMBER = "411722199106054328"  # not yet on file


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Office:
    return build(tmp_path_factory.mktemp("channels") / "instance")


@pytest.fixture
def office(template: Office, tmp_path: Path) -> Office:
    return copy(template, tmp_path)


@pytest.fixture
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def _register(c: FlaskClient, **data: str):  # type: ignore[no-untyped-def]
    fields = {"csrf_token": csrf_token(c, "/channels/register"), "channel": "visit",
              "name": "苗翠兰", "id_number": ID_NUMBER, "phone": "13839452176",
              "township": "石桥镇", "text": "宅基地被邻居占用，请求处理。", "people": "1", **data}
    return c.post("/channels/register", data=fields)


def test_a_visit_registered_on_the_page_opens_the_letters_page(app: Flask,
                                                               office: Office) -> None:
    c = sign_in(app.test_client(), "clerk1")
    page = c.get("/channels/register").get_data(as_text=True)
    assert "登记来访、来电、信箱、网上信访" in page and 'name="reception_id"' in page
    response = _register(c)
    assert response.status_code == 303
    letter_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    shown = c.get(f"/letters/{letter_id}").get_data(as_text=True)
    assert "来访" in shown and "苗翠兰" in shown and "校对" in shown
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        assert (letter.channel, letter.received_basis) == ("visit", "来访登记")


def test_a_refusal_is_shown_at_its_field_with_what_was_typed(app: Flask) -> None:
    c = sign_in(app.test_client(), "clerk1")
    response = _register(c, id_number="411722196304123521", text="我家的地被占了")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'name="id_number"[^>]*aria-invalid="true"', html)
    assert re.search(r'class="field-error" id="err-id_number" role="alert">[^<]*校验位', html)
    assert "我家的地被占了" in html  # what the clerk typed stays


def test_only_the_office_registers_and_the_handler_is_refused(app: Flask) -> None:
    assert sign_in(app.test_client(), "handler1").get("/channels/register").status_code == 403
    assert sign_in(app.test_client(), "leader1").get("/channels/register").status_code == 200


def test_a_reception_day_lists_whom_the_leader_received(app: Flask) -> None:
    c = sign_in(app.test_client(), "clerk1")
    token = csrf_token(c, "/channels/receptions")
    refused = c.post("/channels/receptions", data={"csrf_token": token, "leader": "",
                                                   "place": "大厅"})
    assert refused.status_code == 400 and 'id="err-leader"' in refused.get_data(as_text=True)
    leaders = re.findall(r'<option value="(\d+)"', c.get("/channels/receptions").get_data(
        as_text=True))
    made = c.post("/channels/receptions", data={"csrf_token": token, "leader": leaders[0],
                                                "place": "县信访局接待大厅"})
    assert made.status_code == 303
    reception = made.headers["Location"].rstrip("/").split("/")[-1]
    response = _register(c, reception_id=reception)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    day = c.get(f"/channels/receptions/{reception}").get_data(as_text=True)
    assert "苗翠兰" in day and "接待的来访 <small>1 批" in day
    listing = c.get("/channels/receptions").get_data(as_text=True)
    assert "县信访局接待大厅" in listing and "1 批" in listing


def _act(c: FlaskClient, case_id: int, action: str, **data: object):  # type: ignore[no-untyped-def]
    html = c.get(f"/cases/{case_id}").get_data(as_text=True)
    fields = dict(re.findall(r'name="(csrf_token|version|seen_event)" value="([^"]*)"', html))
    return c.post(f"/cases/{case_id}/actions/{action}", data={**fields, **data},
                  content_type="multipart/form-data")


def test_a_settlement_with_its_signed_scan_ends_the_case_on_its_page(app: Flask,
                                                                    office: Office) -> None:
    c = sign_in(app.test_client(), "clerk1")
    case_id = office.cases["land"]
    assert "调解、和解" not in c.get(f"/cases/{case_id}").get_data(as_text=True)  # not accepted
    assert _act(c, case_id, "accept", told="当面告知").status_code == 303
    page = c.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "调解、和解（协议书）" in page and 'enctype="multipart/form-data"' in page

    wrong = _act(c, case_id, "settle", kind="和解", parties="韩秋菊\n石桥镇人民政府",
                 terms="补偿款月底前付清", file=(io.BytesIO(b"not a scan"), "协议.pdf"))
    assert wrong.status_code == 422 and "按文件内容判断" in wrong.get_data(as_text=True)
    done = _act(c, case_id, "settle", kind="和解", parties="韩秋菊\n石桥镇人民政府",
                terms="补偿款月底前付清", file=(io.BytesIO(PNG), "协议.png"))
    assert done.status_code == 303
    page = c.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "和解协议书" in page and "已办结" in page and "韩秋菊、石桥镇人民政府" in page
    link = re.search(r'href="(/cases/\d+/attachments/\d+)">下载', page)
    assert link is not None
    with c.get(link.group(1)) as download:
        assert download.data == PNG


def test_urgent_matters_on_the_case_page_the_list_and_the_dashboard(app: Flask,
                                                                     office: Office) -> None:
    c = sign_in(app.test_client(), "clerk1")
    case_id = office.cases["land"]
    refused = _act(c, case_id, "urgent", reason="")
    assert refused.status_code == 422 and "为何属于重大、紧急" in refused.get_data(as_text=True)
    assert _act(c, case_id, "urgent", reason="二十余户拟集体上访").status_code == 303
    assert _act(c, case_id, "urgent", recipient="本级党委和政府", person="县委办", how="电话",
                told_at="2020-01-02T09:30").status_code == 303
    page = c.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "二十余户拟集体上访" in page and "已报告本级党委和政府（县委办）" in page
    assert "尚未报告：相关主管部门" in page
    assert "报告本级党委和政府（县委办），电话 2020-01-02T09:30" in page  # the timeline
    leader = sign_in(app.test_client(), "leader1")
    listing = leader.get("/urgent/").get_data(as_text=True)
    assert "二十余户拟集体上访" in listing and "国家信访局" in listing
    other = sign_in(app.test_client(), "handler1")
    assert "二十余户拟集体上访" in other.get("/urgent/").get_data(as_text=True)  # its unit
    board = leader.get("/dashboard/").get_data(as_text=True)
    card = re.search(r'class="card urgent">.*?class="big"><a href="([^"]+)">1</a>', board, re.S)
    assert card is not None  # the office's count, a link to the matters behind it
    behind = leader.get(card.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "XF-" in behind and "重大紧急" in behind


def _token(app: Flask, username: str) -> dict[str, str]:
    answer = app.test_client().post("/api/v1/token", json={"username": username,
                                                          "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_the_api_and_the_cli_reach_the_same_services(app: Flask, office: Office) -> None:
    api, auth = app.test_client(), _token(app, "clerk1")
    refused = api.post("/api/v1/registrations", headers=auth,
                       json={"channel": "online", "name": "苗翠兰", "text": "",
                             "township": "石桥镇"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "text"
    made = api.post("/api/v1/registrations", headers=auth,
                    json={"channel": "online", "name": "苗翠兰", "text": "网上反映宅基地纠纷",
                          "township": "石桥镇"})
    assert made.status_code == 201 and made.get_json()["received_basis"] == "网上登记"
    assert api.post("/api/v1/registrations", headers=_token(app, "handler1"),
                    json={}).status_code == 403
    day = api.post("/api/v1/receptions", headers=auth,
                   json={"leader": "leader1", "place": "接待大厅"})
    assert day.status_code == 201
    runner = CliRunner()
    home = ["--home", str(office.home)]
    cli = runner.invoke(main, [*home, "register", "--channel", "visit", "--name", "苗翠兰",
                               "--text", "接待日当面反映", "--reception",
                               str(day.get_json()["id"]), "--json"])
    assert cli.exit_code == 0, cli.output
    listed = json.loads(runner.invoke(main, [*home, "reception", "list", "--json"]).output)
    assert listed["receptions"][0]["visits"] == 1
    shown = api.get(f"/api/v1/receptions/{day.get_json()['id']}", headers=auth).get_json()
    assert [x["reg_no"] for x in shown["letters"]] == [json.loads(cli.output)["reg_no"]]
    case_id = office.cases["land"]
    version = api.get(f"/api/v1/cases/{case_id}", headers=auth).get_json()["version"]
    accepted = api.post(f"/api/v1/cases/{case_id}/actions/accept", headers=auth,
                        json={"version": version, "told": "当面告知"})
    assert accepted.status_code == 200
    settled = api.post(f"/api/v1/cases/{case_id}/actions/settle", headers=auth, json={
        "version": accepted.get_json()["version"], "kind": "调解", "parties": "甲\n乙",
        "terms": "一次性补偿", "file_base64": base64.b64encode(PNG).decode(),
        "file_name": "x.png"})
    assert settled.status_code == 200 and settled.get_json()["stage"] == "closed"
    record = api.get(f"/api/v1/cases/{case_id}", headers=auth).get_json()
    assert record["settlement"]["document"] == "调解协议书"
    wage = office.cases["wage"]
    marked = runner.invoke(main, [*home, "case", "urgent", str(wage), "--reason", "讨薪聚集",
                                  "--json"])
    assert marked.exit_code == 0, marked.output
    scan = office.home / "agreement.pdf"
    scan.write_bytes(b"%PDF-1.4\n")
    refused_cli = runner.invoke(main, [*home, "case", "settle", str(wage), "--kind", "和解",
                                       "--party", "甲", "--party", "乙", "--terms", "和解",
                                       "--file", str(scan)])
    assert refused_cli.exit_code == 1 and "已登记" in refused_cli.output  # not yet accepted
    by_cli = json.loads(runner.invoke(main, [*home, "cases", "--urgent", "--json"]).output)
    by_api = api.get("/api/v1/urgent", headers=auth).get_json()
    assert [c["case_id"] for c in by_cli["cases"]] == [c["case_id"] for c in by_api["cases"]] \
        == [wage]
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, wage)
        assert case is not None and case.status == "registered"


def test_a_reception_day_is_edited_and_made_a_joint_one_whose_matters_go_to_its_units(
        app: Flask, office: Office) -> None:
    """§18 ¶3 联合接访: a day could not be corrected, nor record the units taking part."""
    from sqlalchemy import select

    from records import AuditEvent, ReceptionDay, Unit, User, cases
    from tests.web.app.views.office_data import OTHER_UNIT
    from tests.web.signin import HANDLER_UNIT

    c = sign_in(app.test_client(), "clerk1")
    token = csrf_token(c, "/channels/receptions")
    leaders = re.findall(r'<option value="(\d+)"', c.get("/channels/receptions").get_data(
        as_text=True))
    made = c.post("/channels/receptions", data={"csrf_token": token, "leader": leaders[0],
                                                "place": "县信访局接待大厅"})
    reception = made.headers["Location"].rstrip("/").split("/")[-1]
    letter_id = int(_register(c, reception_id=reception).headers["Location"].split("/")[-1])
    with Instance(office.home) as instance, instance.db.session() as session:
        session.add(Unit(name="县住建局"))  # a unit that does not take part
        session.flush()
        units = {u.name: u.id for u in session.scalars(select(Unit))}
        letter = session.get(Letter, letter_id)
        assert letter is not None
        case_id = cases.open_case(session, letter, actor="test").id
        clerk = session.scalars(select(User).where(User.username == "clerk1")).one()
        clerk.display_name = "王秀英"  # shown by name, never by user name (issue 21)
    url = f"/channels/receptions/{reception}"
    one = c.post(url, data={"csrf_token": token, "place": "县信访局接待大厅",
                            "units": [str(units[HANDLER_UNIT])]})
    assert one.status_code == 400 and "两个以上单位" in one.get_data(as_text=True)
    edited = c.post(url, data={"csrf_token": token, "place": "县联合接访中心", "note": "补记",
                               "units": [str(units[HANDLER_UNIT]), str(units[OTHER_UNIT])]})
    assert edited.status_code == 303
    page = c.get(url).get_data(as_text=True)
    assert "县联合接访中心" in page and "联合接访" in page
    assert "最后修改：<span data-raw>王秀英</span>" in page
    assert HANDLER_UNIT in page and OTHER_UNIT in page and "补记" in page
    refused = c.post(f"{url}/matters/{case_id}", data={"csrf_token": token,
                                                       "unit": str(units["县住建局"])})
    assert refused.status_code == 400 and "没有参加本次联合接访" in refused.get_data(as_text=True)
    given = c.post(f"{url}/matters/{case_id}", data={"csrf_token": token,
                                                     "unit": str(units[OTHER_UNIT])})
    assert given.status_code == 303
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.unit_id == units[OTHER_UNIT]
        day = session.get(ReceptionDay, int(reception))
        assert day is not None and day.edited_by == "clerk1" and day.edited_at is not None
        (event,) = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "edit-reception")).all()
        assert event.detail["before"]["place"] == "县信访局接待大厅"
        assert event.detail["after"]["units"] == sorted([HANDLER_UNIT, OTHER_UNIT])
    assert "县联合接访中心" in c.get("/channels/receptions").get_data(as_text=True)

    client = app.test_client()  # the API and the CLI reach the same rule
    got = client.post("/api/v1/token", json={"username": "clerk1", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {got.get_json()['token']}"}
    alone = client.patch(f"/api/v1/receptions/{reception}", json={"units": []}, headers=bearer)
    assert alone.status_code == 200 and alone.get_json()["units"] == []
    assert alone.get_json()["place"] == "县联合接访中心"  # what was not sent stays
    refused = client.post(f"/api/v1/receptions/{reception}/matters/{case_id}",
                          json={"unit": OTHER_UNIT}, headers=bearer)
    assert refused.status_code == 400 and "没有参加" in refused.get_json()["error"]
    result = CliRunner().invoke(main, ["--home", str(office.home), "reception", "edit",
                                       reception, "--unit", HANDLER_UNIT, "--unit", OTHER_UNIT,
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert {u["name"] for u in json.loads(result.stdout)["units"]} == {HANDLER_UNIT, OTHER_UNIT}
