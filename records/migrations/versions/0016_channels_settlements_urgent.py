"""领导接待日 and its visits, 调解/和解 agreements (§33), 重大紧急 reports (§25)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reception_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["leader_id"], ["user.id"],
                                name=op.f("fk_reception_day_leader_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reception_day")),
        sa.UniqueConstraint("held_on", "leader_id", name=op.f("uq_reception_day_held_on")),
    )
    op.create_index(op.f("ix_reception_day_held_on"), "reception_day", ["held_on"])
    op.create_table(
        "reception_visit",
        sa.Column("reception_id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["letter.id"],
                                name=op.f("fk_reception_visit_letter_id_letter")),
        sa.ForeignKeyConstraint(["reception_id"], ["reception_day.id"],
                                name=op.f("fk_reception_visit_reception_id_reception_day")),
        sa.PrimaryKeyConstraint("reception_id", "letter_id", name=op.f("pk_reception_visit")),
        sa.UniqueConstraint("letter_id", name=op.f("uq_reception_visit_letter_id")),
    )
    op.create_table(
        "settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_settlement_case_id_case")),
        sa.ForeignKeyConstraint(["note_id"], ["case_note.id"],
                                name=op.f("fk_settlement_note_id_case_note")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement")),
        sa.UniqueConstraint("case_id", name=op.f("uq_settlement_case_id")),
    )
    op.create_table(
        "urgent_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("told_at", sa.DateTime(), nullable=True),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_urgent_report_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urgent_report")),
    )
    op.create_index(op.f("ix_urgent_report_case_id"), "urgent_report", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_urgent_report_case_id"), table_name="urgent_report")
    op.drop_table("urgent_report")
    op.drop_table("settlement")
    op.drop_table("reception_visit")
    op.drop_index(op.f("ix_reception_day_held_on"), table_name="reception_day")
    op.drop_table("reception_day")
