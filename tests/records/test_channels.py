"""领导接待日, 调解/和解 (§33), 重大紧急 (§25) in the records: what each refuses, what it ends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from records import (
    Case,
    CaseNote,
    Database,
    Letter,
    RecordsError,
    Settlement,
    User,
    audit,
    cases,
    intake,
    receptions,
    settlements,
    urgency,
)
from records.calendar import load_calendar
from records.workflow import Evidence, Stage, agenda

D = dt.date
CAL = load_calendar()
NOW = dt.datetime(2026, 3, 20, 10, 0)


MARCH_2 = D(2026, 3, 2)


def _letter(session: Session, n: int, *, channel: str = "visit",
            received: dt.date = MARCH_2) -> Letter:
    letter = intake.register_letter(session, sha256=f"{n:064x}",
                                    source_name=f"{channel}-{n}.txt", media_type="text/plain",
                                    size_bytes=1, received_on=received, actor="clerk1",
                                    channel=channel)
    letter.summary, letter.text = "请求兑现征地补偿款", "请求兑现征地补偿款"
    return letter


def _accepted_case(session: Session, n: int = 1) -> Case:
    case = cases.open_case(session, _letter(session, n), actor="clerk1")
    cases.transition(session, case, "accept", D(2026, 3, 5), actor="clerk1",
                     calendar=CAL, evidence=Evidence(told="当面告知"))
    return case


def _leader(session: Session, name: str = "leader1", role: str = "leader") -> User:
    user = User(username=name, display_name=f"{name}同志", role=role)
    session.add(user)
    session.flush()
    return user


def test_a_reception_day_receives_the_visits_of_its_day_and_lists_their_matters(
        db: Database) -> None:
    with db.session() as session:
        leader = _leader(session)
        day = receptions.add_reception(session, held_on=D(2026, 3, 2), leader=leader,
                                       place="县信访局接待大厅", actor="clerk1")
        visit, later, letter = (_letter(session, 1), _letter(session, 2, received=D(2026, 3, 3)),
                                _letter(session, 3, channel="letter"))
        receptions.receive(session, day, visit, actor="clerk1")
        receptions.receive(session, day, visit, actor="clerk1")  # the same visit once
        with pytest.raises(RecordsError, match="不是接待日"):
            receptions.receive(session, day, later, actor="clerk1")
        with pytest.raises(RecordsError, match="不是来访登记"):
            receptions.receive(session, day, letter, actor="clerk1")
        assert [x.id for x in receptions.visits(session, day)] == [visit.id]
        assert receptions.matters(session, day) == []
        case = cases.open_case(session, visit, actor="clerk1")
        again = _letter(session, 4)  # a second visit that day on the same matter
        receptions.receive(session, day, again, actor="clerk1")
        cases.link_letter(session, again, case, actor="clerk1")
        assert receptions.matters(session, day) == [case]  # once (by id: PostgreSQL too)
        with pytest.raises(RecordsError, match="已有接待日"):
            receptions.add_reception(session, held_on=D(2026, 3, 2), leader=leader,
                                     place="别处", actor="clerk1")
        with pytest.raises(RecordsError, match="不是在任的领导"):
            receptions.add_reception(session, held_on=D(2026, 3, 2),
                                     leader=_leader(session, "clerk9", "clerk"), place="大厅",
                                     actor="clerk1")
        assert [e.action for e in audit.history(session, "reception", day.id)] == [
            "reception-day"]


def test_a_joint_reception_takes_two_units_and_gives_its_matters_only_to_them(
        db: Database) -> None:
    """§18 ¶3 联合接访: the units taking part recorded, the day's matters given to one of them."""
    from records import ReceptionUnit, Unit

    with db.session() as session:
        lands, wages, roads = (Unit(name="县自然资源局"), Unit(name="县人社局"),
                               Unit(name="县交通局"))
        session.add_all([lands, wages, roads])
        session.flush()
        leader = _leader(session)
        with pytest.raises(RecordsError, match="两个以上单位"):
            receptions.add_reception(session, held_on=MARCH_2, leader=leader,
                                     place="大厅", units=[lands], actor="clerk1")
        day = receptions.add_reception(session, held_on=MARCH_2, leader=leader, place="大厅",
                                       units=[lands, wages], actor="clerk1")
        joint = [u.name for u in receptions.joint_units(session, day)]
        assert joint == ["县人社局", "县自然资源局"]
        visit = _letter(session, 1)
        receptions.receive(session, day, visit, actor="clerk1")
        case = cases.open_case(session, visit, actor="clerk1")
        elsewhere = cases.open_case(session, _letter(session, 2), actor="clerk1")
        with pytest.raises(RecordsError, match="没有参加本次联合接访"):
            receptions.assign_matter(session, day, case, roads, actor="clerk1")
        with pytest.raises(RecordsError, match="不是本次接待"):
            receptions.assign_matter(session, day, elsewhere, wages, actor="clerk1")
        receptions.assign_matter(session, day, case, wages, actor="clerk1")
        assert case.unit_id == wages.id
        receptions.edit_reception(session, day, place="县联合接访中心", note="补记",
                                  units=[wages, roads], actor="leader1")
        assert (day.place, day.note, day.edited_by) == ("县联合接访中心", "补记", "leader1")
        assert day.edited_at is not None
        assert {r.unit_id for r in session.scalars(select(ReceptionUnit))} == {wages.id,
                                                                              roads.id}
        with pytest.raises(RecordsError, match="请填写接待地点"):
            receptions.edit_reception(session, day, place=" ", note="", units=[],
                                      actor="leader1")
        edits = [e for e in audit.history(session, "reception", day.id)
                 if e.action == "edit-reception"]
        assert [(e.detail["before"]["units"], e.detail["after"]["units"]) for e in edits] == [
            (["县人社局", "县自然资源局"], ["县交通局", "县人社局"])]


def test_an_agreement_ends_the_matter_and_no_review_follows(db: Database) -> None:
    with db.session() as session:
        case = _accepted_case(session)

        def settle(parties: list[str], signed_on: dt.date) -> Settlement:
            return settlements.settle(
                session, case, kind="调解", parties=parties, terms="三月底前付清补偿款 3 万元",
                signed_on=signed_on, file_sha256="f" * 64, file_name="协议.pdf",
                media_type="application/pdf", size=10, actor="handler1", today=D(2026, 3, 20))

        with pytest.raises(RecordsError, match="争议双方"):
            settle(["韩秋菊"], D(2026, 3, 18))
        with pytest.raises(RecordsError, match="早于上一步"):
            settle(["韩秋菊", "石桥镇政府"], D(2026, 3, 4))
        with pytest.raises(RecordsError, match="晚于今天"):
            settle(["韩秋菊", "石桥镇政府"], D(2026, 3, 21))
        item = settle(["韩秋菊", "石桥镇政府", " "], D(2026, 3, 18))
        assert (case.status, case.last_action_on) == ("closed", D(2026, 3, 18))
        assert item.parties == ["韩秋菊", "石桥镇政府"]
        assert case.steps["settle"]["document"] == "调解协议书"
        assert settlements.settlement_of(session, case) is item
        today = agenda(cases.clock_of(case), CAL, D(2026, 3, 20))
        assert today.allowed() == [] and today.deadlines == ()  # no §35 window opens
        assert "第三十三条" in settlements.refusal(case)
        [*_, last] = audit.history(session, "case", case.id)
        assert (last.action, last.detail["step"], last.detail["to_stage"]) == (
            "transition", "settle", "closed")
        note = session.get(CaseNote, item.note_id)
        assert note is not None
        assert (note.file_sha256, note.text) == ("f" * 64, "调解协议书（签字件）")


def test_an_agreement_is_refused_before_acceptance(db: Database) -> None:
    with db.session() as session:
        case = cases.open_case(session, _letter(session, 1), actor="clerk1")
        assert "已登记" in settlements.refusal(case)
        with pytest.raises(RecordsError, match="第三十三条"):
            settlements.settle(session, case, kind="和解", parties=["甲", "乙"], terms="和解",
                               signed_on=D(2026, 3, 3), file_sha256="f" * 64, file_name="a.png",
                               media_type="image/png", size=1, actor="x", today=D(2026, 3, 20))
        assert case.status == Stage.REGISTERED.value


def test_an_agreement_is_only_for_a_claim(db: Database) -> None:
    """§33: 在处理申诉求决类事项过程中 — not a suggestion, not an accusation."""
    with db.session() as session:
        case = _accepted_case(session, 1)
        assert settlements.refusal(case) == ""  # not yet classified: the clerk may settle
        cases.classify(session, case, "建议意见", None, actor="clerk1")
        assert "申诉求决" in settlements.refusal(case) and "第三十三条" in settlements.refusal(case)
        with pytest.raises(RecordsError, match="申诉求决类事项"):
            settlements.settle(session, case, kind="调解", parties=["甲", "乙"], terms="和解",
                               signed_on=D(2026, 3, 3), file_sha256="f" * 64, file_name="a.png",
                               media_type="image/png", size=1, actor="x", today=D(2026, 3, 20))
        cases.classify(session, case, "申诉求决", 6, actor="clerk1")
        assert settlements.refusal(case) == ""


def test_an_urgent_matter_is_marked_then_reported_and_listed_while_open(db: Database) -> None:
    with db.session() as session:
        case, other = _accepted_case(session, 1), _accepted_case(session, 2)
        with pytest.raises(RecordsError, match="为何属于重大、紧急"):
            urgency.report(session, case, actor="clerk1", now=NOW)
        urgency.report(session, case, reason="二十余户村民拟集体上访", actor="clerk1", now=NOW)
        assert urgency.is_urgent(session, case) and not urgency.is_urgent(session, other)
        assert urgency.untold(urgency.reports(session, case)) == list(urgency.RECIPIENTS)
        with pytest.raises(RecordsError, match="请选择报告对象"):
            urgency.report(session, case, actor="clerk1", now=NOW)
        with pytest.raises(RecordsError, match="报告对象须为"):
            urgency.report(session, case, recipient="县长", how="电话", told_at=NOW,
                           actor="clerk1", now=NOW)
        with pytest.raises(RecordsError, match="晚于现在"):
            urgency.report(session, case, recipient="本级党委和政府", how="电话",
                           told_at=NOW + dt.timedelta(hours=1), actor="clerk1", now=NOW)
        urgency.report(session, case, recipient="本级党委和政府", person="县委办公室王主任",
                       how="电话", told_at=NOW - dt.timedelta(minutes=30), actor="clerk1",
                       now=NOW)
        rows = urgency.reports(session, case)
        assert urgency.untold(rows) == ["相关主管部门", "信访工作联席会议办公室", "上一级信访部门",
                                        "国家信访局"]
        assert urgency.urgent_cases(session) == [case]
        case.status = Stage.CLOSED.value
        assert urgency.urgent_cases(session) == []
        assert urgency.urgent_cases(session, open_only=False) == [case]
        assert [e.action for e in audit.history(session, "case", case.id)][-2:] == [
            "urgent", "urgent"]
