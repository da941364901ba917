"""Delivery shared by several processes: the outbox of events stores without transactions
(ClickHouse), outbox cursors per events store, delivery workers and their claims.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("store_id", sa.String(36), nullable=False),
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(36), nullable=True),
        sa.UniqueConstraint("store_id", "team_id", "uuid", name="uq_delivery_outbox_event"),
    )
    op.create_index("ix_delivery_outbox_store", "delivery_outbox", ["store_id", "check_after"])
    op.create_table(
        "delivery_cursors",
        sa.Column("store_id", sa.String(36), primary_key=True),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "delivery_workers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("hog_function_deliveries", sa.Column("claimed_by", sa.String(36), nullable=True))
    # One cursor per events store now; the single one is dropped (an outbox row matched but not
    # yet pruned when this runs is matched again: at least once).
    op.drop_table("delivery_cursor")


def downgrade() -> None:
    op.create_table(
        "delivery_cursor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("hog_function_deliveries") as batch:
        batch.drop_column("claimed_by")
    op.drop_table("delivery_workers")
    op.drop_table("delivery_cursors")
    op.drop_index("ix_delivery_outbox_store", "delivery_outbox")
    op.drop_table("delivery_outbox")
