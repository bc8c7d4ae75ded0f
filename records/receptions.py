"""领导接待日 (§18 ¶2: 领导干部应当……定期接待群众来访): the leader, the day, the place, and the
visits received, each a letter registered by the clerk; the matters opened are their cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordsError
from records.models import Case, Letter, ReceptionDay, ReceptionVisit, User


def add_reception(session: Session, *, held_on: dt.date, leader: User, place: str,
                  note: str = "", actor: str) -> ReceptionDay:
    """Record a reception day; one per leader and day."""
    if leader.role != "leader" or not leader.active:
        raise RecordsError(f"{leader.display_name or leader.username} 不是在任的领导用户")
    if not place.strip():
        raise RecordsError("请填写接待地点")
    if session.scalar(select(ReceptionDay.id).where(ReceptionDay.held_on == held_on,
                                                    ReceptionDay.leader_id == leader.id)):
        raise RecordsError(f"{leader.display_name or leader.username} 在 {held_on} "
                           "已有接待日记录")
    day = ReceptionDay(held_on=held_on, leader_id=leader.id, place=place.strip()[:120],
                       note=note.strip(), by=actor)
    session.add(day)
    session.flush()
    audit.record(session, actor, "reception-day", "reception", day.id,
                 held_on=held_on.isoformat(), leader=leader.username, place=day.place)
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
