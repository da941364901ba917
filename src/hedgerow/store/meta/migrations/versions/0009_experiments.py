"""Experiments: an A/B test over a multivariate feature flag, with its metrics and settings.

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("feature_flag_id", sa.Integer, sa.ForeignKey("feature_flags.id"), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("start_date", TS, nullable=True),
        sa.Column("end_date", TS, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=True),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("metrics_secondary", sa.JSON, nullable=False),
        sa.Column("secondary_metrics", sa.JSON, nullable=False),
        sa.Column("stats_config", sa.JSON, nullable=True),
        sa.Column("exposure_criteria", sa.JSON, nullable=True),
        sa.Column("scheduling_config", sa.JSON, nullable=True),
        sa.Column("primary_metrics_ordered_uuids", sa.JSON, nullable=True),
        sa.Column("secondary_metrics_ordered_uuids", sa.JSON, nullable=True),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("conclusion", sa.String(30), nullable=True),
        sa.Column("conclusion_comment", sa.Text, nullable=True),
        sa.Column("created_by_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_experiments_project_id", "experiments", ["project_id"])
    op.create_index("ix_experiments_feature_flag_id", "experiments", ["feature_flag_id"])


def downgrade() -> None:
    op.drop_index("ix_experiments_feature_flag_id", "experiments")
    op.drop_index("ix_experiments_project_id", "experiments")
    op.drop_table("experiments")
