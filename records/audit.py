"""The audit trail: every change and every read of a letter, appended, never edited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from records.models import AuditEvent


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
