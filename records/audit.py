"""The audit trail: every change and every read of a letter, appended, never edited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from records.models import CHANGES, AuditEvent


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit event."""


def record(
    session: Session, actor: str, action: str, entity: str, entity_id: int | None, /,
    **detail: Any,
) -> AuditEvent:
    """Add one event to the unit of work that made the change, so both commit or neither."""
    audit = AuditEvent(
        actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail
    )
    session.add(audit)
    return audit


def newest_change(session: Session) -> int | None:
    """The newest event that changed a record (not a look, models.LOOKS): it names the state
    of the records, so figures computed from one state can be kept until the next.

    The condition is the text of the partial index ix_audit_event_changes, so that it is used.
    """
    return session.scalar(select(AuditEvent.id).where(text(CHANGES))
                          .order_by(AuditEvent.id.desc()).limit(1))


def history(session: Session, entity: str, entity_id: int) -> list[AuditEvent]:
    """The events of one record, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(query))


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")
