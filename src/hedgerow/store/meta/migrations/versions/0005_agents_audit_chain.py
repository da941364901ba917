"""Agents (personal API keys with an owner, projects, expiry and an access matrix) and the
audit trail's channel detail, argument digests and hash chain.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("key_id", sa.String(50), primary_key=True),
        sa.Column("organization_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_by_key_id", sa.String(50), nullable=True),
        sa.Column("access", sa.JSON, nullable=False),
        sa.Column("projects", sa.JSON, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_agents_organization_id", "agents", ["organization_id"])
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("agent_id", sa.String(50), nullable=True))
        batch.add_column(sa.Column("args_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
        batch.create_index("ix_audit_log_agent_id", ["agent_id"])
        batch.create_index("ix_audit_log_organization_id", ["organization_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_organization_id")
        batch.drop_index("ix_audit_log_agent_id")
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("args_digest")
        batch.drop_column("agent_id")
    op.drop_index("ix_agents_organization_id", "agents")
    op.drop_table("agents")
