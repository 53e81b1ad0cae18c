"""user accounts for the pages, and their server-side sessions

People sign in to the pages with an email and password (argon2 hash), with the same
roles and scopes as API keys; their sessions live in the database so every worker sees
a sign-out at once.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "housing_officer",
                "integration",
                "provider",
                "commissioner",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("authority_code", sa.String(length=9), nullable=True),
        sa.Column("provider_id", GUID(length=16), nullable=True),
        sa.Column("region", sa.String(length=120), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("locked_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_signed_in_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role NOT IN ('housing_officer', 'integration') OR authority_code IS NOT NULL)"
            " AND (role <> 'provider' OR provider_id IS NOT NULL)"
            " AND (role <> 'commissioner' OR authority_code IS NOT NULL OR region IS NOT NULL)",
            name=op.f("ck_users_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_users_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_users_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "page_sessions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_sessions")),
        sa.UniqueConstraint("session_id", name=op.f("uq_page_sessions_session_id")),
    )
    op.create_index(
        op.f("ix_page_sessions_expires_at"), "page_sessions", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_page_sessions_expires_at"), table_name="page_sessions")
    op.drop_table("page_sessions")
    op.drop_table("users")
