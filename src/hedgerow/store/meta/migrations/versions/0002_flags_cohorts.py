"""Feature flags and cohorts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("ensure_experience_continuity", sa.Boolean, nullable=False),
        sa.Column("rollback_conditions", sa.JSON, nullable=True),
        sa.Column("performed_rollback", sa.Boolean, nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("evaluation_runtime", sa.String(10), nullable=False),
        sa.Column("bucketing_identifier", sa.String(20), nullable=True),
        sa.Column("is_remote_configuration", sa.Boolean, nullable=False),
        sa.Column("has_encrypted_payloads", sa.Boolean, nullable=False),
        sa.Column("has_enriched_analytics", sa.Boolean, nullable=False),
        sa.Column("creation_context", sa.String(40), nullable=False),
        sa.Column("created_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("last_modified_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("last_called_at", TS, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_feature_flags_project_key", "feature_flags", ["project_id", "key"])
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("filters", sa.JSON, nullable=True),
        sa.Column("query", sa.JSON, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("is_static", sa.Boolean, nullable=False),
        sa.Column("cohort_type", sa.String(20), nullable=True),
        sa.Column("is_calculating", sa.Boolean, nullable=False),
        sa.Column("last_calculation", TS, nullable=True),
        sa.Column("errors_calculating", sa.Integer, nullable=False),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("count", sa.Integer, nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("pending_version", sa.Integer, nullable=True),
        sa.Column("created_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cohorts_project", "cohorts", ["project_id"])


def downgrade() -> None:
    op.drop_table("cohorts")
    op.drop_table("feature_flags")
