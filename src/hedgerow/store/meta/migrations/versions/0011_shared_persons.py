"""The person identity state shared by several processes: persons, distinct ids, overrides
(used with ``--persons shared`` on PostgreSQL; created everywhere so the schema is one).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INT_ID_SEQUENCE = "identity_person_int_id"


def upgrade() -> None:
    op.create_table(
        "identity_persons",
        sa.Column("team_id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("int_id", sa.BigInteger, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("is_identified", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "identity_distinct_ids",
        sa.Column("team_id", sa.Integer, primary_key=True),
        sa.Column("distinct_id", sa.Text, primary_key=True),
        sa.Column("person_uuid", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_identity_distinct_ids_person", "identity_distinct_ids",
                    ["team_id", "person_uuid"])  # fmt: skip
    op.create_table(
        "identity_overrides",
        sa.Column("team_id", sa.Integer, primary_key=True),
        sa.Column("distinct_id", sa.Text, primary_key=True),
        sa.Column("person_uuid", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence(INT_ID_SEQUENCE)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence(INT_ID_SEQUENCE)))
    op.drop_table("identity_overrides")
    op.drop_index("ix_identity_distinct_ids_person", "identity_distinct_ids")
    op.drop_table("identity_distinct_ids")
    op.drop_table("identity_persons")
