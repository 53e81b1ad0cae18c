"""idempotency records, and a trigger-written change feed of the registry

The matcher keeps an in-memory index of units in each worker. Triggers append a row to
`registry_changes` whenever a unit, scheme, provider, protocol, placement or rehousing
option
changes, so every worker can tell cheaply whether (and what) to reload, and no code path
can change the registry without the feed hearing of it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:12:42
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the column that identifies the registry row a change belongs to
WATCHED = {
    "units": "id",
    "schemes": "id",
    "providers": "id",
    "protocols": "id",
    "protocol_members": "protocol_id",
    "placements": "id",
    "rehousing_options": "id",
}


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("api_key_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "registry_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_registry_changes")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def _sqlite_triggers() -> None:
    for table, column in WATCHED.items():
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER registry_change_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN INSERT INTO registry_changes (table_name, row_id) "
                f"VALUES ('{table}', lower(hex({row}.{column}))); END"
            )


def _postgresql_triggers() -> None:
    for table, column in WATCHED.items():
        op.execute(
            f"CREATE FUNCTION registry_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN INSERT INTO registry_changes (table_name, row_id) VALUES ('{table}', "
            f"CASE WHEN TG_OP = 'DELETE' THEN OLD.{column}::text ELSE NEW.{column}::text END); "
            f"RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER registry_change_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION registry_change_{table}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS registry_change_{table}_{event}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS registry_change_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS registry_change_{table}()")
    op.drop_table("registry_changes")
    op.drop_table("idempotency_records")
