"""领导接待日 (§18 ¶2): the record of a leader's reception day, the visits registered on it and
the matters they opened; a joint reception's units (联合接访, §18 ¶3), each matter given to one
of them; corrections of a day. Shared by the page, the API and `huiyin reception`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from records import ReceptionDay, RecordsError, Unit, User, cases, intake, receptions
from records.privacy import mask_personal
from records.workflow import STAGE_LABELS, Stage
from web.services import labels
from web.services.dates import DateError, parse_day
from web.services.errors import ServiceError
from web.services.instance import Instance


class ReceptionError(ServiceError):
    """A reception day that cannot be recorded; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def leaders(instance: Instance) -> list[tuple[int, str]]:
    """The active leaders who may hold a reception day: (user id, name)."""
    with instance.db.session() as session:
        rows = session.scalars(select(User).where(User.role == "leader",
                                                  User.active.is_(True)).order_by(User.id))
        return [(u.id, u.display_name or u.username) for u in rows]


def office_units(instance: Instance) -> list[tuple[int, str]]:
    """The office's units that may take part in a joint reception: (unit id, name)."""
    with instance.db.session() as session:
        return [(u.id, u.name) for u in session.scalars(select(Unit).order_by(Unit.name))]


def _units(session: Any, refs: Sequence[str]) -> list[Unit]:
    """Units by id or name, each once; a ReceptionError names one that is not there."""
    found: list[Unit] = []
    for ref in (r.strip() for r in refs if r.strip()):
        unit = session.get(Unit, int(ref)) if ref.isdigit() else session.scalars(
            select(Unit).where(Unit.name == ref)).first()
        if unit is None:
            raise ReceptionError(f"没有单位“{ref[:40]}”", "units")
        if unit not in found:
            found.append(unit)
    return found


def add_reception(instance: Instance, form: Mapping[str, str], *, actor: str,
                  units: Sequence[str] = ()) -> int:
    """Record a reception day from text fields: held_on, leader (id or user name), place, note;
    ``units`` (ids or names) make it a joint reception."""
    raw_day = str(form.get("held_on") or "").strip()
    try:
        held_on = parse_day(raw_day, what="接待日期", not_after=instance.today()) \
            if raw_day else instance.today()
    except DateError as e:
        raise ReceptionError(str(e), "held_on") from None
    who = str(form.get("leader") or "").strip()
    if not who:
        raise ReceptionError("请选择接待的领导", "leader")
    with instance.db.session() as session:
        leader = session.get(User, int(who)) if who.isdigit() else session.scalars(
            select(User).where(User.username == who)).first()
        if leader is None:
            raise ReceptionError(f"没有用户“{who[:40]}”", "leader")
        try:
            day = receptions.add_reception(session, held_on=held_on, leader=leader,
                                           place=str(form.get("place") or ""),
                                           note=str(form.get("note") or ""),
                                           units=_units(session, units), actor=actor)
        except RecordsError as e:
            raise ReceptionError(str(e), _field_of(str(e))) from None
        return day.id


def _field_of(message: str) -> str:
    return "place" if "地点" in message else "units" if "单位" in message else "leader"


def edit_reception(instance: Instance, reception_id: int, form: Mapping[str, str], *,
                   units: Sequence[str] | None, actor: str) -> None:
    """Correct a day's place and note and set its joint units (who and when kept, audited);
    a field the form leaves out (units None) stays as it was."""
    with instance.db.session() as session:
        try:
            day = receptions.get_reception(session, reception_id)
            chosen = (_units(session, units) if units is not None
                      else receptions.joint_units(session, day))
            receptions.edit_reception(session, day, place=str(form.get("place", day.place)),
                                      note=str(form.get("note", day.note)), units=chosen,
                                      actor=actor)
        except RecordsError as e:
            raise ReceptionError(str(e), _field_of(str(e))) from None


def assign_matter(instance: Instance, reception_id: int, case_ref: str | int, unit_ref: str,
                  *, actor: str) -> str:
    """Give a matter opened on a joint reception to one of its units; the unit's name."""
    with instance.db.session() as session:
        try:
            day = receptions.get_reception(session, reception_id)
            case = cases.get_case(session, case_ref)
            found = _units(session, [unit_ref])
            if not found:
                raise ReceptionError("请选择承办单位", "units")
            receptions.assign_matter(session, day, case, found[0], actor=actor)
        except RecordsError as e:
            raise ReceptionError(str(e)) from None
        return found[0].name


def receive(instance: Instance, reception_id: int, letter_ref: str, *, actor: str) -> None:
    """List a visit already registered (by registration number or id) under the day."""
    with instance.db.session() as session:
        day = receptions.get_reception(session, reception_id)
        receptions.receive(session, day, intake.find_letter(session, letter_ref), actor=actor)


def _summary(instance: Instance, session: Any, day: ReceptionDay) -> dict[str, Any]:
    leader = session.get(User, day.leader_id)
    return {"id": day.id, "held_on": day.held_on, "place": day.place, "note": day.note,
            "leader_id": day.leader_id,
            "leader": (leader.display_name or leader.username) if leader else "",
            "units": [{"unit_id": u.id, "name": u.name}
                      for u in receptions.joint_units(session, day)],
            "edited_by": day.edited_by,
            "edited_by_name": (labels.person(day.edited_by, labels.display_names(
                session, [day.edited_by])) if day.edited_by else None),
            "edited_at": (instance.local_time(day.edited_at).strftime("%Y-%m-%d %H:%M")
                          if day.edited_at else None),
            "visits": len(receptions.visits(session, day)),
            "matters": len(receptions.matters(session, day))}


def reception_list(instance: Instance, *, since: dt.date | None = None) -> list[dict[str, Any]]:
    """Reception days, newest first, with how many visits and matters each had."""
    with instance.db.session() as session:
        return [_summary(instance, session, day)
                for day in receptions.receptions(session, since=since)]


def open_on(instance: Instance, day: dt.date) -> list[dict[str, Any]]:
    """The reception days held on `day` (a visit registered that day may name one)."""
    return [r for r in reception_list(instance, since=day) if r["held_on"] == day]


def reception_detail(instance: Instance, reception_id: int) -> dict[str, Any]:
    """One day: the leader, place, whom they received (letters) and the matters opened."""
    with instance.db.session() as session:
        try:
            day = receptions.get_reception(session, reception_id)
        except RecordsError as e:
            raise ReceptionError(str(e)) from None
        found = _summary(instance, session, day)
        found["letters"] = [
            {"letter_id": x.id, "reg_no": x.reg_no, "received_on": x.received_on,
             "petitioners": "、".join(intake.petitioner_names(x)), "people": x.people,
             "summary": mask_personal(x.summary or x.text[:40]), "case_id": x.case_id}
            for x in receptions.visits(session, day)]
        found["cases"] = [
            {"case_id": c.id, "case_no": c.case_no, "title": mask_personal(c.title),
             "stage": c.status, "stage_label": STAGE_LABELS[Stage(c.status)],
             "unit_id": c.unit_id, "unit": c.unit.name if c.unit else None}
            for c in receptions.matters(session, day)]
        return found
