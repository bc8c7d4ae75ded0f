"""领导接待日 (§18 ¶2: 领导干部应当……定期接待群众来访): the leader, the day, the place, and the
visits received, each a letter registered by the clerk; the matters opened are their cases.

A day may be a joint reception (联合接访, §18 ¶3: 组织有关机关、单位联合接待，一站式解决信访问题):
the units taking part are recorded, and each matter opened that day is given to one of them.
A day's place, note and units can be corrected later (who and when kept, the change audited).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordsError
from records.models import (
    Case,
    Letter,
    ReceptionDay,
    ReceptionUnit,
    ReceptionVisit,
    Unit,
    User,
    utcnow,
)
from records.routing import assign_owner


def add_reception(session: Session, *, held_on: dt.date, leader: User, place: str,
                  note: str = "", units: list[Unit] | None = None,
                  actor: str) -> ReceptionDay:
    """Record a reception day (a joint one with its units); one per leader and day."""
    if leader.role != "leader" or not leader.active:
        raise RecordsError(f"{leader.display_name or leader.username} 不是在任的领导用户")
    if not place.strip():
        raise RecordsError("请填写接待地点")
    _check_joint(units or [])
    if session.scalar(select(ReceptionDay.id).where(ReceptionDay.held_on == held_on,
                                                    ReceptionDay.leader_id == leader.id)):
        raise RecordsError(f"{leader.display_name or leader.username} 在 {held_on} "
                           "已有接待日记录")
    day = ReceptionDay(held_on=held_on, leader_id=leader.id, place=place.strip()[:120],
                       note=note.strip(), by=actor)
    session.add(day)
    session.flush()
    joint = sorted(u.name for u in _set_units(session, day, units or []).values())
    audit.record(session, actor, "reception-day", "reception", day.id,
                 held_on=held_on.isoformat(), leader=leader.username, place=day.place,
                 units=joint)
    return day


def get_reception(session: Session, reception_id: int) -> ReceptionDay:
    """A reception day by id, or a RecordsError naming it."""
    day = session.get(ReceptionDay, reception_id)
    if day is None:
        raise RecordsError(f"没有编号为 {reception_id} 的接待日")
    return day


def receive(session: Session, day: ReceptionDay, letter: Letter, *, actor: str) -> None:
    """A visit registered on the day is one the leader received (a visit of that very day)."""
    if letter.channel != "visit":
        raise RecordsError(f"{letter.reg_no} 不是来访登记，不能列入接待日")
    if letter.received_on != day.held_on:
        raise RecordsError(f"{letter.reg_no} 的来访日期 {letter.received_on} 不是接待日 "
                           f"{day.held_on}")
    linked = session.get(ReceptionVisit, (day.id, letter.id))
    if linked is not None:
        return
    other = session.scalar(select(ReceptionVisit).where(ReceptionVisit.letter_id == letter.id))
    if other is not None:
        raise RecordsError(f"{letter.reg_no} 已列入接待日 {other.reception_id}")
    session.add(ReceptionVisit(reception_id=day.id, letter_id=letter.id))
    session.flush()
    audit.record(session, actor, "received-at", "letter", letter.id, reception_id=day.id)


def visits(session: Session, day: ReceptionDay) -> list[Letter]:
    """The letters of the visits received that day, in registration order."""
    query = (select(Letter).join(ReceptionVisit, ReceptionVisit.letter_id == Letter.id)
             .where(ReceptionVisit.reception_id == day.id).order_by(Letter.id))
    return list(session.scalars(query))


def matters(session: Session, day: ReceptionDay) -> list[Case]:
    """The matters those visits opened or joined (each once)."""
    opened = (select(Letter.case_id).join(ReceptionVisit, ReceptionVisit.letter_id == Letter.id)
              .where(ReceptionVisit.reception_id == day.id))
    # by id, not DISTINCT over the case's columns: PostgreSQL cannot compare its JSON ones
    return list(session.scalars(select(Case).where(Case.id.in_(opened)).order_by(Case.id)))


def receptions(session: Session, *, since: dt.date | None = None) -> list[ReceptionDay]:
    """Reception days, newest first."""
    query = select(ReceptionDay)
    if since is not None:
        query = query.where(ReceptionDay.held_on >= since)
    return list(session.scalars(query.order_by(ReceptionDay.held_on.desc(),
                                               ReceptionDay.id.desc())))


def joint_units(session: Session, day: ReceptionDay) -> list[Unit]:
    """The units taking part in a joint reception (none: the leader's own reception)."""
    query = (select(Unit).join(ReceptionUnit, ReceptionUnit.unit_id == Unit.id)
             .where(ReceptionUnit.reception_id == day.id).order_by(Unit.name))
    return list(session.scalars(query))


def edit_reception(session: Session, day: ReceptionDay, *, place: str, note: str,
                   units: list[Unit], actor: str) -> None:
    """Correct a day's place and note and set the units of a joint reception; audited."""
    if not place.strip():
        raise RecordsError("请填写接待地点")
    before = {"place": day.place, "note": day.note,
              "units": [u.name for u in joint_units(session, day)]}
    given = _set_units(session, day, units)
    day.place, day.note = place.strip()[:120], note.strip()
    day.edited_by, day.edited_at = actor, utcnow()
    session.flush()
    after = {"place": day.place, "note": day.note,
             "units": sorted(u.name for u in given.values())}
    audit.record(session, actor, "edit-reception", "reception", day.id, before=before,
                 after=after)


def _check_joint(units: list[Unit]) -> None:
    if len({u.id for u in units}) == 1:
        raise RecordsError("联合接访须有两个以上单位参加（第十八条第三款）；只有一个单位时请不选")


def _set_units(session: Session, day: ReceptionDay, units: list[Unit]) -> dict[int, Unit]:
    _check_joint(units)
    given = {u.id: u for u in units}
    kept = {u.id for u in joint_units(session, day)}
    for unit_id in kept - set(given):
        gone = session.get(ReceptionUnit, (day.id, unit_id))
        if gone is not None:
            session.delete(gone)
    for unit_id in set(given) - kept:
        session.add(ReceptionUnit(reception_id=day.id, unit_id=unit_id))
    return given


def assign_matter(session: Session, day: ReceptionDay, case: Case, unit: Unit, *,
                  actor: str) -> None:
    """Give a matter opened on a joint reception to one of the units taking part (§18 ¶3)."""
    if unit.id not in {u.id for u in joint_units(session, day)}:
        raise RecordsError(f"{unit.name} 没有参加本次联合接访，不能承办本次接待的事项")
    if case.id not in {c.id for c in matters(session, day)}:
        raise RecordsError(f"{case.case_no} 不是本次接待的来访立案的事项")
    lead = session.get(User, case.lead_id) if case.lead_id else None
    assign_owner(session, case, unit, lead, actor=actor,
                 reason=f"联合接访（第十八条第三款），接待日 {day.held_on}")
