"""Who handles a case: the routing table (属地管理、分级负责) and the §30 accusation rule."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from records import audit
from records.intake import RecordsError
from records.models import Case, Route, Unit, User


class AccusationConflict(RecordsError):
    """《信访工作条例》§30: an accusation is never sent to the unit or person it accuses."""


def route_for(session: Session, township: str, category: str) -> Route | None:
    """The most specific routing row for a township and category ("" in a row matches any)."""
    rows = session.scalars(
        select(Route).where(
            or_(Route.township == township, Route.township == ""),
            or_(Route.category == category, Route.category == ""),
        )
    ).all()
    return max(rows, key=lambda r: (r.township != "", r.category != ""), default=None)


def set_route(session: Session, *, township: str, category: str, unit: Unit,
              lead: User | None, actor: str) -> Route:
    """Add or change one row of the routing table."""
    route = session.scalars(
        select(Route).where(Route.township == township, Route.category == category)
    ).first() or Route(township=township, category=category)
    route.unit_id, route.lead_id = unit.id, lead.id if lead else None
    session.add(route)
    session.flush()
    audit.record(session, actor, "set-route", "route", route.id, township=township,
                 category=category, unit=unit.name)
    return route


def mark_accusation(session: Session, case: Case, *, accused_unit: Unit | None,
                    accused_person: str | None, actor: str) -> None:
    """Record whom a case accuses; refused while its owner, its leader or a user who would see
    it is the accused, a part of it, or above it (§30 ¶3, §28 ¶3)."""
    person = (accused_person or "").strip() or None
    owner = session.get(Unit, case.unit_id) if case.unit_id else None
    if accused_unit is not None and owner is not None:
        _check_units(session, owner, accused_unit.id, case)
    lead = session.get(User, case.lead_id) if case.lead_id else None
    for viewer in ([lead] if lead else []) + (_viewers(session, owner) if owner else []):
        if accused_unit is not None and viewer.unit_id is not None and _related(
                session, viewer.unit_id, accused_unit.id):
            raise AccusationConflict(f"{_name(viewer)} 属于被检举的单位 {accused_unit.name} "
                                     f"或其上下级，能看到事项 {case.case_no}：{_FIRST}")
        if person is not None and person in (viewer.display_name, viewer.username):
            raise AccusationConflict(f"被检举人 {person} 是能看到事项 {case.case_no} 的用户"
                                     f"（{viewer.username}）：{_FIRST}")
    case.accused_unit_id = accused_unit.id if accused_unit else None
    case.accused_person = person
    audit.record(session, actor, "mark-accusation", "case", case.id,
                 accused_unit=accused_unit.name if accused_unit else None,
                 accused_person=person)


_ARTICLE = ("不得将信访人的检举、揭发材料以及有关情况透露或者转给被检举、揭发的人员或者单位"
            "（第三十条第三款）")
_FIRST = f"先将事项交给其他单位办理。{_ARTICLE}"


def assign_owner(session: Session, case: Case, unit: Unit, lead: User | None, *, actor: str,
                 reason: str = "") -> None:
    """Give a case its handling unit and responsible leader; §30 ¶3 is checked first."""
    if case.accused_unit_id is not None:
        _check_units(session, unit, case.accused_unit_id, case)
    if lead is not None and case.accused_person and case.accused_person in (
        lead.display_name, lead.username
    ):
        raise AccusationConflict(f"{case.accused_person} 是被检举人：{_ARTICLE}")
    if lead is not None and case.accused_unit_id is not None and lead.unit_id is not None \
            and _related(session, lead.unit_id, case.accused_unit_id):
        raise AccusationConflict(f"{_name(lead)} 属于被检举的单位或其上下级：{_ARTICLE}")
    if case.accused_person:
        for viewer in _viewers(session, unit):
            if case.accused_person in (viewer.display_name, viewer.username):
                raise AccusationConflict(f"被检举人 {case.accused_person} 是 {unit.name} 的"
                                         f"用户（{viewer.username}）：{_ARTICLE}")
    previous = case.unit_id
    case.unit_id, case.lead_id = unit.id, lead.id if lead else None
    audit.record(session, actor, "assign-owner", "case", case.id, unit=unit.name,
                 lead=lead.username if lead else None, previous_unit_id=previous, reason=reason)


def route_case(session: Session, case: Case, *, actor: str) -> Route | None:
    """Give a case the owner the routing table names for its township and category."""
    route = route_for(session, case.township, case.category)
    if route is not None:
        unit = session.get(Unit, route.unit_id)
        assert unit is not None
        lead = session.get(User, route.lead_id) if route.lead_id else None
        assign_owner(session, case, unit, lead, actor=actor, reason="routing table")
    return route


def _within(session: Session, unit_id: int, ancestor_id: int) -> bool:
    """True when the unit `unit_id` is the unit `ancestor_id` or one of its sub-units."""
    seen: set[int] = set()
    current = session.get(Unit, unit_id)
    while current is not None and current.id not in seen:
        if current.id == ancestor_id:
            return True
        seen.add(current.id)
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return False


def _related(session: Session, unit_id: int, accused_id: int) -> bool:
    """The unit is the accused one, one of its sub-units, or a unit above it."""
    return _within(session, unit_id, accused_id) or _within(session, accused_id, unit_id)


def _check_units(session: Session, owner: Unit, accused_id: int, case: Case) -> None:
    if _related(session, owner.id, accused_id):
        accused = session.get(Unit, accused_id)
        name = accused.name if accused else str(accused_id)
        where = (f"就是被检举的单位 {name}" if owner.id == accused_id else
                 f"是被检举的单位 {name} 的" + (
                     "下级单位" if _within(session, owner.id, accused_id) else "上级单位"))
        then = _FIRST if case.unit_id == owner.id else _ARTICLE
        raise AccusationConflict(f"事项 {case.case_no} 的承办单位 {owner.name} {where}：{then}")


def _viewers(session: Session, unit: Unit) -> list[User]:
    """The handlers who see the unit's cases: its own and those of every unit above it."""
    ids, seen = [], set()
    current: Unit | None = unit
    while current is not None and current.id not in seen:
        seen.add(current.id)
        ids.append(current.id)
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return list(session.scalars(select(User).where(User.unit_id.in_(ids),
                                                   User.role == "handler",
                                                   User.active.is_(True))))


def _name(user: User) -> str:
    return f"{user.display_name or user.username}（{user.username}）"
