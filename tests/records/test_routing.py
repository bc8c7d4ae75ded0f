"""Routing by township and category, reassignment, and §30: never to the accused."""

from __future__ import annotations

import datetime as dt

import pytest

from records import Case, Database, Unit, User, audit, intake, routing, supervision
from records.cases import open_case


@pytest.fixture
def case_and_units(db: Database) -> tuple[int, dict[str, int]]:
    with db.session() as session:
        town = Unit(name="石桥镇人民政府", kind="township")
        session.add(town)
        session.flush()
        units = [town, Unit(name="石桥镇国土所", parent_id=town.id), Unit(name="县自然资源局"),
                 Unit(name="县住建局")]
        session.add_all(units[1:])
        session.add(User(username="lead1", display_name="王建军", role="leader"))
        letter = intake.register_letter(session, sha256="a" * 64, source_name="x.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=dt.date(2026, 3, 2), actor="c")
        letter.township, letter.category = "石桥镇", "国土资源"
        case = open_case(session, letter, actor="c")
        session.flush()
        return case.id, {u.name: u.id for u in units}


def test_the_most_specific_route_wins(db: Database, case_and_units: tuple[int, dict]) -> None:
    case_id, units = case_and_units
    with db.session() as session:
        lead = session.query(User).one()
        routing.set_route(session, township="", category="国土资源",
                          unit=session.get(Unit, units["县自然资源局"]), lead=None, actor="admin")
        routing.set_route(session, township="石桥镇", category="",
                          unit=session.get(Unit, units["石桥镇人民政府"]), lead=lead, actor="admin")
        routing.set_route(session, township="石桥镇", category="国土资源",
                          unit=session.get(Unit, units["石桥镇国土所"]), lead=lead, actor="admin")
        case = session.get(Case, case_id)
        route = routing.route_case(session, case, actor="clerk1")
        assert route is not None and case.unit_id == units["石桥镇国土所"]
        assert case.lead_id == lead.id
        assert routing.route_for(session, "李集镇", "国土资源").unit_id == units["县自然资源局"]
        assert routing.route_for(session, "李集镇", "劳动社保") is None


def test_an_accusation_never_goes_to_the_accused(db: Database,
                                                 case_and_units: tuple[int, dict]) -> None:
    case_id, units = case_and_units
    with db.session() as session:
        case = session.get(Case, case_id)
        town = session.get(Unit, units["石桥镇人民政府"])
        routing.mark_accusation(session, case, accused_unit=town, accused_person="王建军",
                                actor="clerk1")
        for name in ("石桥镇人民政府", "石桥镇国土所"):  # the accused unit and its sub-unit
            with pytest.raises(routing.AccusationConflict, match="第三十条第三款"):
                routing.assign_owner(session, case, session.get(Unit, units[name]), None,
                                     actor="clerk1")
        with pytest.raises(routing.AccusationConflict, match="王建军"):
            routing.assign_owner(session, case, session.get(Unit, units["县住建局"]),
                                 session.query(User).one(), actor="clerk1")
        routing.assign_owner(session, case, session.get(Unit, units["县自然资源局"]), None,
                             actor="clerk1", reason="检举件，上提一级")
        assert case.unit_id == units["县自然资源局"]
        assert [e.action for e in audit.history(session, "case", case_id)][-1] == "assign-owner"


def test_recording_an_accusation_checks_the_owner_its_parents_its_sub_units_and_viewers(
        db: Database, case_and_units: tuple[int, dict]) -> None:
    """§30 ¶3, §28 ¶3: the owner may be neither the accused unit, nor above it, nor below it;
    no handler who would see the case (its unit's or a unit's above) may be the accused."""
    case_id, units = case_and_units
    with db.session() as session:
        case = session.get(Case, case_id)
        town, bureau = (session.get(Unit, units[n]) for n in ("石桥镇人民政府", "石桥镇国土所"))
        case.unit_id = bureau.id  # held by the sub-unit: accusing its parent is refused
        with pytest.raises(routing.AccusationConflict, match="下级单位.*第三十条第三款"):
            routing.mark_accusation(session, case, accused_unit=town, accused_person=None,
                                    actor="clerk1")
        case.unit_id = town.id  # held by the parent: accusing its sub-unit is refused too
        with pytest.raises(routing.AccusationConflict, match="上级单位"):
            routing.mark_accusation(session, case, accused_unit=bureau, accused_person=None,
                                    actor="clerk1")
        session.add(User(username="h-town", display_name="周立", role="handler",
                         unit_id=town.id))
        session.flush()
        case.unit_id = bureau.id  # a handler of the parent sees the sub-unit's cases
        with pytest.raises(routing.AccusationConflict, match="周立.*h-town"):
            routing.mark_accusation(session, case, accused_unit=None, accused_person="周立",
                                    actor="clerk1")
        assert case.accused_unit_id is None and case.accused_person is None
        case.unit_id = units["县住建局"]
        routing.mark_accusation(session, case, accused_unit=town, accused_person="周立",
                                actor="clerk1")
        assert case.accused_unit_id == town.id


def test_supervision_and_instructions_are_tracked(db: Database,
                                                  case_and_units: tuple[int, dict]) -> None:
    case_id, _ = case_and_units
    with db.session() as session:
        case = session.get(Case, case_id)
        with pytest.raises(Exception, match="requirements"):
            supervision.supervise(session, case, "escalation", " ", actor="lead1")
        item = supervision.supervise(session, case, "escalation", "限 3 月 20 日前办结并报告",
                                     actor="lead1", due_on=dt.date(2026, 3, 20))
        assert supervision.escalated(session) == [item]
        supervision.resolve(session, item, dt.date(2026, 3, 18), actor="lead1")
        assert supervision.escalated(session) == []
        order = supervision.instruct(session, case, leader="王建军", text="请住建局牵头核实",
                                     given_on=dt.date(2026, 3, 3),
                                     actions=["现场核查", "书面报告"], actor="clerk1")
        supervision.carry_out(session, order, 0, dt.date(2026, 3, 5), actor="clerk1")
        assert supervision.open_instructions(session) == [order]
        supervision.carry_out(session, order, 1, dt.date(2026, 3, 9), actor="clerk1")
        assert order.done_on == dt.date(2026, 3, 9) and supervision.open_instructions(session) == []
