"""long runs as jobs: the `jobs` table, and on PostgreSQL procrastinate's queue schema

A job is a resource (status, progress, result) that survives a restart of the service
and of its workers. On PostgreSQL the queue that hands jobs to `placement worker`
processes is procrastinate's; its schema is applied here, once, so a fresh `placement
serve` or `placement worker` finds it. Downgrading drops it again: every table, function
and type named `procrastinate_*`, as the catalogue lists them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.util import await_only

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by_key_id", GUID(length=16), nullable=True),
        sa.Column("requested_by_user_id", GUID(length=16), nullable=True),
        sa.Column("requested_by_label", sa.String(200), nullable=False),
        sa.Column("requester_role", sa.String(30), nullable=False),
        sa.Column("scope_authority_code", sa.String(9), nullable=True),
        sa.Column("scope_region", sa.String(100), nullable=True),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("message", sa.String(200), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("heartbeat_at", DateTimeUTC(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in STATUSES)), name="ck_jobs_status"
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="ck_jobs_progress"),
    )
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        _apply_procrastinate_schema()


def _apply_procrastinate_schema() -> None:
    """procrastinate's schema, unless an earlier upgrade (before a downgrade) left it."""
    from procrastinate.schema import SchemaManager

    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT to_regclass('procrastinate_jobs')")) is not None:
        return
    # The whole script through asyncpg's simple query protocol: a prepared statement
    # takes one command, and the schema is many, with semicolons inside function bodies.
    raw = bind.connection.driver_connection
    assert raw is not None  # an open connection
    await_only(raw.execute(SchemaManager.get_schema()))


PROCRASTINATE_OBJECTS = {
    "TABLE": "SELECT quote_ident(tablename) FROM pg_tables "
    "WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%'",
    "FUNCTION": "SELECT p.oid::regprocedure::text FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'",
    "TYPE": "SELECT quote_ident(t.typname) FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' "
    "AND t.typtype IN ('e', 'c')",
}
"""procrastinate's objects, by kind, in an order that drops each once: the tables (and
with them their triggers and row types), then the functions, then the enum and
composite types left."""


def _drop_procrastinate_schema() -> None:
    bind = op.get_bind()
    for kind, names in PROCRASTINATE_OBJECTS.items():
        for name in bind.scalars(sa.text(names)).all():
            op.execute(f"DROP {kind} IF EXISTS {name} CASCADE")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _drop_procrastinate_schema()
    op.drop_index("ix_jobs_status_created", table_name="jobs")
    op.drop_table("jobs")
