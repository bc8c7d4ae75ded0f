"""routing, supervision and instructions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 17:51:59.327745
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["user.id"], name=op.f("fk_route_lead_id_user")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_route_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route")),
        sa.UniqueConstraint("township", "category", name=op.f("uq_route_township")),
    )
    op.create_table(
        "instruction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_instruction_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruction")),
    )
    with op.batch_alter_table("instruction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instruction_case_id"), ["case_id"], unique=False)

    op.create_table(
        "supervision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_supervision_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision")),
    )
    with op.batch_alter_table("supervision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accused_person", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("accused_person")

    with op.batch_alter_table("supervision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_case_id"))

    op.drop_table("supervision")
    with op.batch_alter_table("instruction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instruction_case_id"))

    op.drop_table("instruction")
    op.drop_table("route")
