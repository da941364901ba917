"""Hog functions (webhook destinations): their configuration, the deliveries still owed, the
cursor over the events outbox, and each destination's logs and metrics.

Revision ID: 0010
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hog_functions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("hog", sa.Text, nullable=False),
        sa.Column("inputs_schema", sa.JSON, nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("masking", sa.JSON, nullable=True),
        sa.Column("mappings", sa.JSON, nullable=True),
        sa.Column("icon_url", sa.Text, nullable=True),
        sa.Column("template_id", sa.String(400), nullable=True),
        sa.Column("execution_order", sa.Integer, nullable=True),
        sa.Column("created_by_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hog_functions_project_id", "hog_functions", ["project_id"])
    op.create_table(
        "hog_function_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("hog_function_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("event_uuid", sa.String(36), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hog_function_deliveries_due", "hog_function_deliveries", ["hog_function_id", "next_attempt_at"])
    op.create_table(
        "delivery_cursor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outbox_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "hog_function_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("hog_function_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("instance_id", sa.String(36), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_hog_function_logs_function", "hog_function_logs", ["hog_function_id", "id"])
    op.create_table(
        "hog_function_metrics",
        sa.Column("hog_function_id", sa.String(36), primary_key=True),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("metric_name", sa.String(40), primary_key=True),
        sa.Column("metric_kind", sa.String(20), nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hog_function_metrics")
    op.drop_index("ix_hog_function_logs_function", "hog_function_logs")
    op.drop_table("hog_function_logs")
    op.drop_table("delivery_cursor")
    op.drop_index("ix_hog_function_deliveries_due", "hog_function_deliveries")
    op.drop_table("hog_function_deliveries")
    op.drop_index("ix_hog_functions_project_id", "hog_functions")
    op.drop_table("hog_functions")
