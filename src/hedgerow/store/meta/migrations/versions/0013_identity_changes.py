"""The shared identity state's change feed: one row per person or distinct id a transaction
changed, numbered in commit order, so every process can bring its own copy of the persons
(the tables its queries read) up to date (used with ``--persons shared`` on PostgreSQL;
created everywhere so the schema is one).

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_changes")
