"""Foundation: organizations, users, projects, personal API keys, audit, definitions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("distinct_id", sa.String(200), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("first_name", sa.String(150), nullable=False),
        sa.Column("last_name", sa.String(150), nullable=False),
        sa.Column("current_project_id", sa.Integer, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "organization_memberships",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(36), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("organization_id", "user_id", name="uq_membership_org_user"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("organization_id", sa.String(36), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_token", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_api_token", sa.String(128), nullable=True),
        sa.Column("timezone", sa.String(240), nullable=False),
        sa.Column("week_start_day", sa.Integer, nullable=True),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "personal_api_keys",
        sa.Column("id", sa.String(50), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("secure_value", sa.String(300), nullable=False, unique=True),
        sa.Column("mask_value", sa.String(11), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("scoped_teams", sa.JSON, nullable=True),
        sa.Column("scoped_organizations", sa.JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("last_rolled_at", TS, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(50), nullable=True),
        sa.Column("key_label", sa.String(40), nullable=True),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("object", sa.String(64), nullable=True),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("project_id", sa.Integer, nullable=True),
        sa.Column("organization_id", sa.String(36), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("sentence", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_index("ix_audit_log_key_id", "audit_log", ["key_id"])
    op.create_table(
        "event_definitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=True),
        sa.UniqueConstraint("project_id", "name", name="uq_event_definition_project_name"),
    )
    op.create_table(
        "property_definitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("type", sa.Integer, nullable=False),
        sa.Column("group_type_index", sa.Integer, nullable=False),
        sa.Column("property_type", sa.String(50), nullable=True),
        sa.Column("is_numerical", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=True),
        sa.UniqueConstraint("project_id", "type", "group_type_index", "name", name="uq_property_definition_key"),
    )


def downgrade() -> None:
    for table in (
        "property_definitions",
        "event_definitions",
        "audit_log",
        "personal_api_keys",
        "projects",
        "organization_memberships",
        "users",
        "organizations",
    ):
        op.drop_table(table)
