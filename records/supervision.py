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
    if due_on is not None and due_on < case.opened_on:
        raise RecordsError(f"due date {due_on} is before the case was received ({case.opened_on})")
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


def open_items(session: Session, *, escalated_only: bool = False) -> list[Supervision]:
    """Reminders and escalations not yet resolved (notes only record), nearest due first."""
    kinds = ("escalation",) if escalated_only else ("reminder", "escalation")
    query = select(Supervision).where(Supervision.kind.in_(kinds),
                                      Supervision.resolved_on.is_(None))
    items = session.scalars(query.order_by(Supervision.id))
    return sorted(items, key=lambda s: (s.due_on is None, s.due_on or dt.date.max, s.id))


def of_case(session: Session, case: Case) -> tuple[list[Supervision], list[Instruction]]:
    """A case's supervision record and its leaders' instructions, oldest first."""
    items = session.scalars(select(Supervision).where(Supervision.case_id == case.id)
                            .order_by(Supervision.id))
    orders = session.scalars(select(Instruction).where(Instruction.case_id == case.id)
                             .order_by(Instruction.id))
    return list(items), list(orders)


def get_item(session: Session, case: Case, item_id: int) -> Supervision:
    """One supervision item of this case, or a message naming the case's items."""
    item = session.get(Supervision, item_id)
    if item is None or item.case_id != case.id:
        raise RecordsError(f"case {case.case_no} has no supervision item {item_id}")
    return item


def get_instruction(session: Session, case: Case, instruction_id: int) -> Instruction:
    """One instruction on this case, or a message saying there is none by that id."""
    item = session.get(Instruction, instruction_id)
    if item is None or item.case_id != case.id:
        raise RecordsError(f"case {case.case_no} has no instruction {instruction_id}")
    return item


def resolve(session: Session, item: Supervision, on: dt.date, *, actor: str) -> None:
    """A reminder or escalation has been answered: it leaves the open lists."""
    if item.kind == "note":
        raise RecordsError(f"supervision item {item.id} is a note: there is nothing to resolve")
    if item.resolved_on is not None:
        raise RecordsError(f"supervision item {item.id} was resolved on {item.resolved_on}")
    item.resolved_on = on
    audit.record(session, actor, "supervision-resolved", "case", item.case_id,
                 supervision_id=item.id)


def instruct(session: Session, case: Case, *, leader: str, text: str, given_on: dt.date,
             actions: list[str], actor: str) -> Instruction:
    """Record a leader's instruction (批示) and the actions it orders."""
    if not text.strip():
        raise RecordsError("an instruction needs its text")
    if not leader.strip():
        raise RecordsError("an instruction needs the name of the leader who gave it")
    actions = [a.strip() for a in actions if a.strip()]
    if not actions:
        raise RecordsError("an instruction needs at least one action to carry out (--action)")
    if given_on < case.opened_on:
        raise RecordsError(f"instruction date {given_on} is before the case was received "
                           f"({case.opened_on})")
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
        raise RecordsError(f"instruction {item.id} has no action {index + 1}: its actions are "
                           f"numbered 1 to {len(item.actions)}")
    if item.actions[index]["done_on"]:
        raise RecordsError(f"action {index + 1} of instruction {item.id} was done on "
                           f"{item.actions[index]['done_on']}")
    if on < item.given_on:
        raise RecordsError(f"{on} is before the instruction was given ({item.given_on})")
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
