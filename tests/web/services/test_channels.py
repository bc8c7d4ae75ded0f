"""Registering visits and calls (the same fields and checks as a letter), 领导接待日, 调解/和解
through the case actions (the signed copy known by its content), 重大紧急 on the dashboard."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from sqlalchemy import select

from records import Case, CaseNote, Letter, Place, User, intake
from tests.web.signin import add_users
from web.services import case_actions, dashboard, receptions
from web.services.access import console, signed_in
from web.services.instance import Instance
from web.services.registration import RegistrationError, register_form
from web.services.urgent import urgent_list

ID_HAN = "41172219630412352X"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _office(instance: Instance) -> None:
    add_users(instance.home)
    with instance.db.session() as session:
        session.add_all([Place(township="石桥镇"), Place(township="石桥镇", village="枣树营村")])


def _form(**changes: str) -> dict[str, str]:
    return {"channel": "visit", "name": "韩秋菊", "id_number": ID_HAN, "phone": "13839452176",
            "address": "石桥镇枣树营村三组", "township": "石桥镇", "village": "枣树营村",
            "text": "高速公路征地补偿款至今没有发放，请求督促兑现。", "people": "2", **changes}


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"name": " "}, "name", "请填写信访人姓名"),
    ({"id_number": "411722196304123521"}, "id_number", "校验位"),
    ({"phone": "12345"}, "phone", "不是有效的号码"),
    ({"township": "火星镇"}, "township", "不在地名表中"),
    ({"text": "  "}, "text", "如实记录"),
    ({"received_on": "2999-01-01"}, "received_on", "之后"),
    ({"received_on": "3月2日"}, "received_on", "格式不对"),
    ({"people": "两"}, "people", "正整数"),
    ({"received_basis": "邮戳?"}, "received_basis", "依据"),
    ({"channel": "fax"}, "channel", "渠道"),
    ({"reception_id": "99"}, "reception_id", "没有编号为 99 的接待日"),
    ({"name": "韩秋"}, "id_number", "已登记为“韩秋菊”"),
])
def test_a_refusal_names_its_field(instance: Instance, changes: dict[str, str], field: str,
                                   words: str) -> None:
    _office(instance)
    register_form(instance, _form(), actor="clerk1")  # 韩秋菊's ID number is on file
    with pytest.raises(RegistrationError, match=words) as refused:
        register_form(instance, _form(**changes), actor="clerk1")
    assert refused.value.field == field
    with instance.db.session() as session:
        assert len(session.scalars(select(Letter.id)).all()) == 1  # nothing more stored


def test_a_visit_is_kept_like_a_letter_with_its_basis_and_reception_day(
        instance: Instance) -> None:
    _office(instance)
    with instance.db.session() as session:
        leader = session.scalars(select(User).where(User.username == "leader1")).one()
    day = receptions.add_reception(instance, {"leader": "leader1", "place": "县信访局接待大厅"},
                                   actor="clerk1")
    letter_id = register_form(instance, _form(reception_id=str(day)), actor="clerk1")
    call_id = register_form(instance, _form(channel="phone", people="1", id_number=""),
                            actor="clerk1")
    with instance.db.session() as session:
        visit, call = intake.get_letter(session, letter_id), intake.get_letter(session, call_id)
        assert (visit.channel, visit.received_basis, visit.people) == ("visit", "来访登记", 2)
        assert (visit.township, visit.village, visit.ingest_state) == ("石桥镇", "枣树营村",
                                                                       "indexed")
        [person] = visit.petitioners
        assert (person.id_number, person.address) == (ID_HAN, "石桥镇枣树营村三组")
        assert (call.channel, call.received_basis) == ("phone", "来电登记")
    shown = receptions.reception_detail(instance, day)
    assert (shown["leader"], shown["leader_id"]) == ("leader1", leader.id)
    assert [x["letter_id"] for x in shown["letters"]] == [letter_id]
    case_actions.open_case(instance, letter_id, actor="clerk1")
    assert [c["case_no"] for c in receptions.reception_detail(instance, day)["cases"]] == [
        f"XF-{instance.today().year}-000001"]
    with pytest.raises(RegistrationError, match="只有来访") as refused:
        register_form(instance, _form(channel="phone", reception_id=str(day)), actor="clerk1")
    assert refused.value.field == "reception_id"
    with pytest.raises(receptions.ReceptionError, match="已有接待日"):
        receptions.add_reception(instance, {"leader": str(leader.id), "place": "大厅"},
                                 actor="clerk1")


def _accepted(instance: Instance) -> int:
    letter_id = register_form(instance, _form(), actor="clerk1")
    case_id = case_actions.open_case(instance, letter_id, actor="clerk1")
    case_actions.act_on(instance, case_id, "accept", {"told": "当面告知"}, actor="clerk1",
                        role="clerk")
    return case_id


def test_a_settlement_ends_the_case_and_its_scan_is_checked_by_content(
        instance: Instance) -> None:
    _office(instance)
    case_id = _accepted(instance)
    form = {"kind": "调解", "parties": "韩秋菊\n石桥镇人民政府", "terms": "月底前付清补偿款"}
    fake = ("协议书.pdf", io.BytesIO(b"just text, named .pdf"))
    with pytest.raises(case_actions.ActionError, match="按文件内容判断"):
        case_actions.act_on(instance, case_id, "settle", form, actor="handler1", role="handler",
                            upload=fake)
    with pytest.raises(case_actions.ActionError, match="请上传"):
        case_actions.act_on(instance, case_id, "settle", form, actor="handler1", role="handler")
    with pytest.raises(case_actions.ActionError, match="协议种类"):
        case_actions.act_on(instance, case_id, "settle", {**form, "kind": "判决"},
                            actor="handler1", role="handler",
                            upload=("scan.png", io.BytesIO(PNG)))
    assert not instance.blobs.path(hashlib.sha256(PNG).hexdigest()).exists()  # left no file
    done = case_actions.act_on(instance, case_id, "settle", form, actor="handler1",
                               role="handler", upload=("签字件.PDF", io.BytesIO(PNG)))
    assert done.stage == "closed" and "调解协议书" in done.message
    with instance.db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert not {"settle", "close", "request_review"} & set(
            case_actions.available(case, "clerk"))
        note = session.get(CaseNote, done.details["note_id"])
        assert note is not None
        assert (note.file_name, note.media_type, note.size) == ("签字件.png", "image/png",
                                                                len(PNG))
        assert instance.blobs.path(note.file_sha256 or "").read_bytes() == PNG
    with pytest.raises(case_actions.ActionError, match="不能操作|没有|不能"):
        case_actions.act_on(instance, case_id, "request_review", {}, actor="clerk1",
                            role="clerk")


def test_urgent_matters_are_listed_in_scope_and_counted_on_the_dashboard(
        instance: Instance) -> None:
    _office(instance)
    case_id = _accepted(instance)
    with pytest.raises(case_actions.ActionError, match="为何属于重大、紧急"):
        case_actions.act_on(instance, case_id, "urgent", {}, actor="clerk1", role="clerk")
    marked = case_actions.act_on(instance, case_id, "urgent", {"reason": "拟集体上访"},
                                 actor="clerk1", role="clerk")
    assert "尚未报告" in marked.message
    with pytest.raises(case_actions.ActionError, match="格式不对"):
        case_actions.act_on(instance, case_id, "urgent", {"recipient": "国家信访局",
                                                          "told_at": "今天上午"},
                            actor="clerk1", role="clerk")
    case_actions.act_on(instance, case_id, "urgent", {
        "recipient": "本级党委和政府", "person": "县委办", "how": "电话",
        "told_at": f"{instance.today() - dt.timedelta(days=1)}T09:30"}, actor="clerk1",
        role="clerk")
    [row] = urgent_list(instance, console("cli"))
    assert row["case_id"] == case_id and row["urgent"]["reason"] == "拟集体上访"
    assert [r["recipient"] for r in row["urgent"]["reports"]] == ["本级党委和政府"]
    assert "本级党委和政府" not in row["urgent"]["untold"]
    with instance.db.session() as session:
        handler = signed_in(session, session.scalars(
            select(User).where(User.username == "handler1")).one())
    assert urgent_list(instance, handler) == []  # not the handler's unit's case
    figures = dashboard.summary(instance, None, instance.today())
    assert figures["work"]["urgent"]["count"] == 1
    assert dashboard.count(instance, "urgent", None, instance.today()) == 1
    assert [r["case_id"] for r in dashboard.rows_behind(instance, "urgent", None,
                                                         instance.today())] == [case_id]
