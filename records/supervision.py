"""督办 and 批示: reminders, notes and escalations on cases; leaders' instructions until done."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.intake import RecordsError
from records.models import Case, Instruction, Supervision

KINDS = ("reminder", "note", "escalation")


def supervise(session: Session, case: Case, kind: str, text: str, *, actor: str,
              due_on: dt.date | None = None) -> Supervision:
    """Add a reminder, a note, or an escalation (挂牌督办) to a case."""
    if kind not in KINDS:
        raise RecordsError(f"kind must be one of {', '.join(KINDS)}")
    if kind == "escalation" and not text.strip():
        raise RecordsError("an escalation (挂牌督办) needs its requirements written down")
    item = Supervision(case_id=case.id, kind=kind, text=text, due_on=due_on, by=actor)
    session.add(item)
    session.flush()
    audit.record(session, actor, f"supervise-{kind}", "case", case.id, supervision_id=item.id,
                 due_on=due_on.isoformat() if due_on else None)
    return item


def escalated(session: Session) -> list[Supervision]:
    """Escalations not yet resolved, oldest first."""
    query = select(Supervision).where(Supervision.kind == "escalation",
                                      Supervision.resolved_on.is_(None))
    return list(session.scalars(query.order_by(Supervision.id)))


def resolve(session: Session, item: Supervision, on: dt.date, *, actor: str) -> None:
    item.resolved_on = on
    audit.record(session, actor, "supervision-resolved", "case", item.case_id,
                 supervision_id=item.id)


def instruct(session: Session, case: Case, *, leader: str, text: str, given_on: dt.date,
             actions: list[str], actor: str) -> Instruction:
    """Record a leader's instruction (批示) and the actions it orders."""
    if not text.strip():
        raise RecordsError("an instruction needs its text")
    item = Instruction(case_id=case.id, leader=leader, text=text, given_on=given_on,
                       actions=[{"what": a, "done_on": None} for a in actions])
    session.add(item)
    session.flush()
    audit.record(session, actor, "instruction", "case", case.id, instruction_id=item.id,
                 leader=leader)
    return item


def carry_out(session: Session, item: Instruction, index: int, on: dt.date, *,
              actor: str) -> None:
    """Mark one ordered action done; the instruction is done when all of them are."""
    if not 0 <= index < len(item.actions):
        raise RecordsError(f"instruction {item.id} has no action {index + 1}")
    actions = [dict(a) for a in item.actions]
    actions[index]["done_on"] = on.isoformat()
    item.actions = actions
    if all(a["done_on"] for a in actions):
        item.done_on = on
    audit.record(session, actor, "instruction-action-done", "case", item.case_id,
                 instruction_id=item.id, action=actions[index]["what"])


def open_instructions(session: Session) -> list[Instruction]:
    """Instructions with actions still to carry out."""
    query = select(Instruction).where(Instruction.done_on.is_(None))
    return list(session.scalars(query.order_by(Instruction.given_on)))
