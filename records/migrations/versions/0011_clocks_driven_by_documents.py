"""the clock driven by documents: the unit's receipt of a 交办, the extension asked and
approved, each answer's delivery, the petitioner's waiver, how each step was made; the receipt
date's basis, the level a letter went to and how many came; the step a signed reply made

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_DATES = ("assignment_received_on", "extension_notified_on", "replied_delivered_on",
              "review_delivered_on", "recheck_delivered_on", "waived_on")
# Each answer's delivery date, from the delivery already recorded on its reply (§35, §36).
ANSWERS = {"replied_delivered_on": "handling_opinion", "review_delivered_on": "review_opinion",
           "recheck_delivered_on": "re_review_opinion"}


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name in CASE_DATES:
            batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extension_asked_days", sa.Integer(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("extension_approved_by", sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column("steps", sa.JSON(), server_default="{}", nullable=False))
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_basis", sa.String(length=16),
                                      server_default="扫描日期", nullable=False))
        batch_op.add_column(sa.Column("addressed_level", sa.String(length=16),
                                      server_default="county", nullable=False))
        batch_op.add_column(sa.Column("people", sa.Integer(), server_default="1",
                                      nullable=False))
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=24), server_default="",
                                      nullable=False))
    op.execute('UPDATE "case" SET extension_asked_days = extension_days')
    for column, template in ANSWERS.items():
        op.execute(f'UPDATE "case" SET {column} = (SELECT max(r.delivered_on) FROM reply r '
                   f"WHERE r.case_id = \"case\".id AND r.template = '{template}')")
    # A hearing no longer moves the handling deadline: §34 excludes no time; only the 复核
    # period of §36 ¶2 does, and hearings were refused during 复核 until now.
    op.execute('UPDATE "case" SET paused_days = 0')
    op.execute("UPDATE hearing SET paused_days = 0")


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_column("step")
    with op.batch_alter_table("letter", schema=None) as batch_op:
        for name in ("people", "addressed_level", "received_basis"):
            batch_op.drop_column(name)
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name in ("steps", "extension_approved_by", "extension_asked_days", *CASE_DATES):
            batch_op.drop_column(name)
