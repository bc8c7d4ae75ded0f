"""an index of the audit log's changes (every event but reads, searches, downloads, sign-ins
and sign-outs)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGES = sa.text("action != 'read' AND action != 'search' AND action != 'download' "
                  "AND action != 'login' AND action != 'logout'")


def upgrade() -> None:
    op.create_index("ix_audit_event_changes", "audit_event", ["id"], sqlite_where=CHANGES,
                    postgresql_where=CHANGES)


def downgrade() -> None:
    op.drop_index("ix_audit_event_changes", table_name="audit_event")
