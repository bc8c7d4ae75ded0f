"""联合接访 (§18 ¶3): a reception day's units and its last edit; each user's saved filters

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reception_day") as batch:
        batch.add_column(sa.Column("edited_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("edited_at", sa.DateTime(), nullable=True))
    op.create_table(
        "reception_unit",
        sa.Column("reception_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["reception_id"], ["reception_day.id"],
                                name=op.f("fk_reception_unit_reception_id_reception_day")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_reception_unit_unit_id_unit")),
        sa.PrimaryKeyConstraint("reception_id", "unit_id", name=op.f("pk_reception_unit")),
    )
    op.create_table(
        "saved_filter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("list_key", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_saved_filter_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_filter")),
        sa.UniqueConstraint("user_id", "list_key", "name",
                            name=op.f("uq_saved_filter_user_id")),
    )
    op.create_index(op.f("ix_saved_filter_user_id"), "saved_filter", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_saved_filter_user_id"), table_name="saved_filter")
    op.drop_table("saved_filter")
    op.drop_table("reception_unit")
    with op.batch_alter_table("reception_day") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("edited_by")
