"""case clocks, flags and ownership

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-24 17:47:19.848964
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("township", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("category", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("assigned_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("accepted_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("extension_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("replied_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("decision", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("review_requested_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("review_replied_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recheck_requested_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("recheck_replied_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_action_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("accused_unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction", sa.String(length=8), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_case_accused_unit_id_unit"), "unit", ["accused_unit_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_case_accused_unit_id_unit"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_case_unit_id"))
        batch_op.drop_index(batch_op.f("ix_case_status"))
        batch_op.drop_column("satisfaction")
        batch_op.drop_column("accused_unit_id")
        batch_op.drop_column("flags")
        batch_op.drop_column("last_action_on")
        batch_op.drop_column("recheck_replied_on")
        batch_op.drop_column("recheck_requested_on")
        batch_op.drop_column("review_replied_on")
        batch_op.drop_column("review_requested_on")
        batch_op.drop_column("decision")
        batch_op.drop_column("replied_on")
        batch_op.drop_column("extension_days")
        batch_op.drop_column("accepted_on")
        batch_op.drop_column("assigned_on")
        batch_op.drop_column("category")
        batch_op.drop_column("township")
