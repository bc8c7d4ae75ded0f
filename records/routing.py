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
    """Record whom a case accuses, so that it can never be routed to them."""
    if accused_unit is not None and case.unit_id == accused_unit.id:
        raise AccusationConflict(
            f"case {case.case_no} is handled by {accused_unit.name}, the unit it accuses: "
            "assign it to another unit first"
        )
    case.accused_unit_id = accused_unit.id if accused_unit else None
    case.accused_person = accused_person or None
    audit.record(session, actor, "mark-accusation", "case", case.id,
                 accused_unit=accused_unit.name if accused_unit else None,
                 accused_person=accused_person)


def assign_owner(session: Session, case: Case, unit: Unit, lead: User | None, *, actor: str,
                 reason: str = "") -> None:
    """Give a case its handling unit and responsible leader; §30 is checked first."""
    if case.accused_unit_id is not None and _within(session, unit, case.accused_unit_id):
        raise AccusationConflict(
            f"{unit.name} is, or belongs to, the unit this accusation is about (§30): "
            "choose another unit"
        )
    if lead is not None and case.accused_person and case.accused_person in (
        lead.display_name, lead.username
    ):
        raise AccusationConflict(f"{case.accused_person} is the person accused (§30)")
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


def _within(session: Session, unit: Unit, ancestor_id: int) -> bool:
    """True when `unit` is the unit `ancestor_id` or one of its sub-units."""
    seen: set[int] = set()
    current: Unit | None = unit
    while current is not None and current.id not in seen:
        if current.id == ancestor_id:
            return True
        seen.add(current.id)
        current = session.get(Unit, current.parent_id) if current.parent_id else None
    return False
