"""the petitioner's own view: a query code per case, the evaluation's way, the public tries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# records.query_codes.ALPHABET and CODE_LENGTH, copied: a migration never imports the models
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12


def upgrade() -> None:
    with op.batch_alter_table("case") as batch_op:
        batch_op.add_column(sa.Column("query_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_way", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_on", sa.Date(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_case_query_code"), ["query_code"])
    # every existing matter gets its code, so the office can read it out by phone
    bind = op.get_bind()
    case = sa.table("case", sa.column("id", sa.Integer), sa.column("query_code", sa.String))
    for (case_id,) in bind.execute(sa.select(case.c.id)).all():
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        bind.execute(case.update().where(case.c.id == case_id).values(query_code=code))
    op.create_table(
        "public_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("limited", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_public_query_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_query")),
    )
    op.create_index(op.f("ix_public_query_remote_addr"), "public_query", ["remote_addr"])
    op.create_index(op.f("ix_public_query_at"), "public_query", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_public_query_at"), table_name="public_query")
    op.drop_index(op.f("ix_public_query_remote_addr"), table_name="public_query")
    op.drop_table("public_query")
    with op.batch_alter_table("case") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_case_query_code"), type_="unique")
        batch_op.drop_column("satisfaction_on")
        batch_op.drop_column("satisfaction_note")
        batch_op.drop_column("satisfaction_way")
        batch_op.drop_column("query_code")
