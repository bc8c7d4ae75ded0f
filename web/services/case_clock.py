"""The clock of a case as every entry point shows it: one service over records' agenda.

The case page, the CLI (``huiyin case show``, ``huiyin cases``, ``huiyin stats``) and the JSON
API read a case's deadlines, the actions allowed today (each refused one with its reason) and
the rates from here, so that they say the same thing: records.workflow.agenda is the one
answer, records.stats the one count. A date beyond the holiday table is reported in Chinese,
naming the year to enter (records.calendar.OutsideCalendar), never counted as weekends only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import Case, RecordsError, cases, intake, stats
from records.calendar import OutsideCalendar
from web.services.access import CONSOLE, SignedIn, figure_scope
from web.services.case_view import deadline_dict, jsonable
from web.services.instance import Instance


def agenda_dict(instance: Instance, case: Case, *, roles: dict[str, tuple[str, ...]] | None = None,
                role: str | None = None) -> dict[str, Any]:
    """The case's deadlines, today's actions (refused ones with the reason) and notes.

    With ``role`` (and the table of which roles take which action), the actions are the ones
    that role takes. ``error`` holds the calendar's refusal when a date lies past its years.
    """
    today = instance.today()
    try:
        agenda = cases.agenda_of(case, instance.calendar, today)
    except OutsideCalendar as e:
        return {"today": today.isoformat(), "current": None, "deadlines": [], "actions": [],
                "notes": [], "error": str(e)}
    actions = [{"action": a.action, "label": a.label, "allowed": a.allowed, "reason": a.reason,
                "needs": a.needs} for a in agenda.actions
               if role is None or roles is None or role in roles.get(a.action, ())]
    return jsonable({"today": today, "current": deadline_dict(agenda.current, today),
                     "deadlines": [deadline_dict(d, today) for d in agenda.deadlines],
                     "actions": actions, "notes": list(agenda.notes), "error": None})


def correct_receipt(instance: Instance, session: Session, letter_ref: str | int,
                    on: dt.date, *, basis: str, reason: str, actor: str) -> dict[str, Any]:
    """The clerk's receipt date (postmark or date stamp) for a letter; its case recounts."""
    letter = intake.find_letter(session, str(letter_ref))
    cases.correct_receipt(session, letter, on, basis=basis, reason=reason, actor=actor,
                          today=instance.today())
    return {"letter_id": letter.id, "reg_no": letter.reg_no,
            "received_on": letter.received_on.isoformat(), "basis": letter.received_basis,
            "case_id": letter.case_id}


def rates(instance: Instance, first: dt.date, last: dt.date, by: str | None,
          reader: SignedIn | None = None) -> tuple[int, dict[str, list[stats.Rate]]]:
    """The office's rates over a period (how many cases, the rates per group), counted on
    the same clock as the cases; a period running into today counts what is over by today.
    A `reader`'s rates count only its cases, never one that accuses it (§30 ¶3)."""
    if last < first:
        raise RecordsError(f"结束日期 {last} 早于开始日期 {first}")
    today = min(last + dt.timedelta(days=1), instance.today())
    try:
        with instance.db.session() as session:
            facts = stats.case_facts(session, first, last, instance.calendar, today=today)
            if reader is not None and reader.role != CONSOLE:
                seen = set(session.scalars(select(Case.id).where(figure_scope(reader))))
                facts = [f for f in facts if f.case_id in seen]
    except OutsideCalendar as e:
        raise RecordsError(str(e)) from e
    return len(facts), stats.grouped_rates(facts, by)
