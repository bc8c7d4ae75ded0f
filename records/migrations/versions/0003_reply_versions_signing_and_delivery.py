"""reply versions, signing and delivery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 17:43:02.883684
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("template_version", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("signed_pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("signed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("delivery_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivered_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_reply_signed_pdf_sha256"), ["signed_pdf_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reply_signed_pdf_sha256"))
        batch_op.drop_column("delivered_on")
        batch_op.drop_column("delivery_method")
        batch_op.drop_column("signed_at")
        batch_op.drop_column("signed_pdf_sha256")
        batch_op.drop_column("template_version")
