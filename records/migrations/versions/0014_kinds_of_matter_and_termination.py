"""kinds of matter (§§29-31) and letters not accepted again (§36 ¶3, §19 ¶3)

Existing matters keep kind NULL: 未分类, shown as such and proposed when opened.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("sub_kind", sa.Integer(), nullable=True))
    with op.batch_alter_table("letter") as batch:
        batch.add_column(sa.Column("not_accepted_under", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("not_accepted_citing", sa.String(length=64), nullable=True))
    # every request reads the cases that accuse its user (§30 ¶3, web.services.access)
    op.create_index("ix_case_accused_unit_id", "case", ["accused_unit_id"])
    op.create_index("ix_case_accused_person", "case", ["accused_person"])


def downgrade() -> None:
    op.drop_index("ix_case_accused_person", table_name="case")
    op.drop_index("ix_case_accused_unit_id", table_name="case")
    with op.batch_alter_table("letter") as batch:
        batch.drop_column("not_accepted_citing")
        batch.drop_column("not_accepted_under")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("sub_kind")
        batch.drop_column("kind")
