"""Units and users, flags set on opening and linking, hearings, 督办 and 批示 in the records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from records import Case, Database, RecordsError, Unit, audit, cases, intake, supervision, units
from records.calendar import load_calendar
from records.workflow import Evidence

D = dt.date
CAL = load_calendar()


def _letter(db: Database, sha: str, text: str = "", people: int = 0) -> int:
    with db.session() as session:
        letter = intake.register_letter(session, sha256=sha, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=D(2026, 3, 2), actor="clerk1")
        letter.text = text
        for n in range(people):
            intake.attach_petitioner(session, letter, name=f"信访人{n}", actor="clerk1")
        return letter.id


def test_units_sit_in_the_four_levels_and_users_belong_to_them(db: Database) -> None:
    with db.session() as session:
        town = units.add_unit(session, "石桥镇人民政府", level="township", actor="admin")
        village = units.add_unit(session, "枣树营村委会", level="village", parent=town,
                                 actor="admin")
        lead = units.add_user(session, "wangjj", role="leader", display_name="王建军",
                              unit=town, actor="admin")
        assert (village.parent_id, village.level, lead.unit_id) == (town.id, "village", town.id)
        assert [u.name for u in units.list_units(session)] == ["石桥镇人民政府", "枣树营村委会"]
        assert units.get_user(session, "wangjj") is lead
        assert [e.action for e in audit.history(session, "unit", village.id)] == ["add-unit"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda s, town: units.add_unit(s, "县住建局", level="county", parent=town, actor="a"),
     "cannot sit under 石桥镇人民政府"),
    (lambda s, town: units.add_unit(s, "石桥镇人民政府", actor="a"), "already exists"),
    (lambda s, town: units.add_unit(s, "某组", level="team", actor="a"), "level must be one of"),
    (lambda s, town: units.add_user(s, "x", role="boss", actor="a"), "role must be one of"),
    (lambda s, town: units.get_unit(s, "县交通局"), "huiyin unit add 县交通局"),
    (lambda s, town: units.get_user(s, "nobody"), "huiyin user add nobody"),
])
def test_bad_units_and_users_are_refused_clearly(
        db: Database, call: Callable[[Session, Unit], object], message: str) -> None:
    with db.session() as session:
        town = units.add_unit(session, "石桥镇人民政府", level="township", actor="admin")
        with pytest.raises(RecordsError, match=message):
            call(session, town)


def test_flags_are_proposed_on_opening_and_linking_and_the_clerk_decides(db: Database) -> None:
    first = _letter(db, "a" * 64, "尊敬的市信访局领导：\n我反映征地补偿问题。")
    second = _letter(db, "b" * 64, "县信访局：\n我们二十户村民联名反映。", people=2)
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, first), actor="clerk1")
        assert case.flags == ["越级"]
        [opened] = audit.history(session, "case", case.id)
        assert opened.detail["flag_reasons"] == {"越级": "写给上级机关：市信访局"}
        cases.link_letter(session, intake.get_letter(session, second), case, actor="clerk1")
        assert case.flags == sorted(["越级", "集体", "联名"])
        cases.set_flags(session, case, remove=["越级"], actor="clerk2", reason="本县来信误写")
        assert case.flags == sorted(["集体", "联名"])
        with pytest.raises(RecordsError, match="both added and removed"):
            cases.set_flags(session, case, add=["重复"], remove=["重复"], actor="clerk2")
        last = audit.history(session, "case", case.id)[-1]
        assert (last.actor, last.detail["removed"], last.detail["reason"]) == (
            "clerk2", ["越级"], "本县来信误写")


def test_a_hearing_during_handling_is_recorded_and_the_deadline_stands(
        db: Database) -> None:
    """§34 excludes no time from the 60 days; only §36 ¶2 (复核) does (test_cases)."""
    letter_id = _letter(db, "a" * 64)
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, letter_id), actor="c")
        cases.transition(session, case, "accept", D(2026, 3, 10), actor="c", calendar=CAL,
                         evidence=Evidence(told="当面告知"))
        assert cases.deadline(case, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
        held = cases.record_hearing(session, case, "hearing", D(2026, 4, 1), D(2026, 4, 3),
                                    note="邀请村民代表参加", actor="c", calendar=CAL)
        assert held.paused_days == 0 and case.paused_days == 0
        assert cases.deadline(case, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
        meeting = cases.record_hearing(session, case, "joint_meeting", D(2026, 4, 2),
                                       D(2026, 4, 2), actor="c", calendar=CAL)
        assert meeting.paused_days == 0
        with pytest.raises(RecordsError, match="before it starts"):
            cases.record_hearing(session, case, "hearing", D(2026, 4, 9), D(2026, 4, 8),
                                 actor="c", calendar=CAL)
        with pytest.raises(RecordsError, match="kind must be one of"):
            cases.record_hearing(session, case, "trial", D(2026, 4, 9), D(2026, 4, 9),
                                 actor="c", calendar=CAL)
        assert [h.kind for h in cases.hearings(session, case)] == ["hearing", "joint_meeting"]
        actions = [e.action for e in audit.history(session, "case", case.id)]
        assert actions.count("hearing") == 1 and actions.count("joint-meeting") == 1


def test_due_lists_per_unit_and_leader(db: Database) -> None:
    ids = [_letter(db, c * 64) for c in "abc"]
    with db.session() as session:
        town = units.add_unit(session, "石桥镇人民政府", level="township", actor="a")
        lead = units.add_user(session, "lead1", role="leader", actor="a")
        opened = [cases.open_case(session, intake.get_letter(session, i), actor="c") for i in ids]
        opened[0].unit_id, opened[1].unit_id, opened[1].lead_id = town.id, town.id, lead.id
        today = D(2026, 3, 20)
        by_unit = cases.due(session, CAL, today, overdue_only=True, unit_id=town.id)
        by_lead = cases.due(session, CAL, today, overdue_only=True, lead_id=lead.id)
        assert [c.id for c, _ in by_unit] == [opened[0].id, opened[1].id]
        assert [c.id for c, _ in by_lead] == [opened[1].id]


def test_supervision_and_instructions_refuse_what_makes_no_sense(db: Database) -> None:
    letter_id = _letter(db, "a" * 64)
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, letter_id), actor="c")
        with pytest.raises(RecordsError, match="before the case was received"):
            supervision.supervise(session, case, "reminder", "请尽快办理", actor="c",
                                  due_on=D(2026, 3, 1))
        reminder = supervision.supervise(session, case, "reminder", "请于月底前报送", actor="c",
                                         due_on=D(2026, 3, 31))
        note = supervision.supervise(session, case, "note", "已电话督促", actor="c")
        high = supervision.supervise(session, case, "escalation", "挂牌督办", actor="c",
                                     due_on=D(2026, 3, 25))
        assert supervision.open_items(session) == [high, reminder]
        assert supervision.open_items(session, escalated_only=True) == [high]
        with pytest.raises(RecordsError, match="is a note"):
            supervision.resolve(session, note, D(2026, 3, 5), actor="c")
        supervision.resolve(session, reminder, D(2026, 3, 30), actor="c")
        with pytest.raises(RecordsError, match="was resolved on 2026-03-30"):
            supervision.resolve(session, reminder, D(2026, 3, 31), actor="c")
        other = Case(case_no="XF-2026-999999", opened_on=D(2026, 3, 2))
        session.add(other)
        session.flush()
        with pytest.raises(RecordsError, match="has no supervision item"):
            supervision.get_item(session, other, reminder.id)
        with pytest.raises(RecordsError, match="at least one action"):
            supervision.instruct(session, case, leader="王建军", text="请核实",
                                 given_on=D(2026, 3, 3), actions=[" "], actor="c")
        order = supervision.instruct(session, case, leader="王建军", text="请核实",
                                     given_on=D(2026, 3, 3), actions=["现场核查"], actor="c")
        with pytest.raises(RecordsError, match="numbered 1 to 1"):
            supervision.carry_out(session, order, 1, D(2026, 3, 4), actor="c")
        with pytest.raises(RecordsError, match="before the instruction was given"):
            supervision.carry_out(session, order, 0, D(2026, 3, 2), actor="c")
        supervision.carry_out(session, order, 0, D(2026, 3, 4), actor="c")
        with pytest.raises(RecordsError, match="was done on 2026-03-04"):
            supervision.carry_out(session, order, 0, D(2026, 3, 5), actor="c")
        assert supervision.of_case(session, case) == ([reminder, note, high], [order])


def test_an_unknown_channel_is_refused(db: Database) -> None:
    with db.session() as session, pytest.raises(RecordsError, match="channel must be one of"):
        intake.register_letter(session, sha256="a" * 64, source_name="x", media_type="text/plain",
                               size_bytes=1, received_on=D(2026, 3, 2), actor="c",
                               channel="fax")
