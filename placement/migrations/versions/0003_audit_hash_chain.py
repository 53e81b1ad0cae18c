"""audit events chained by hash, and the chain's head

Each event gets `prev_hash` and `hash` (see `placement.audit_chain`), and the table
`audit_chain_head` the newest event's id and hash. Events already logged are hashed here,
in id order, so an existing log verifies after the upgrade; the append-only triggers are
set aside only for that, as this runs as the tables' owner.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

from placement.audit_chain import GENESIS, seal

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1_000
_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("at", DateTimeUTC(timezone=True)),
    sa.column("actor_key_id", sa.Uuid()),
    sa.column("actor_role", sa.String()),
    sa.column("actor_label", sa.String()),
    sa.column("action", sa.String()),
    sa.column("record_type", sa.String()),
    sa.column("record_id", sa.String()),
    sa.column("detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
# As migration 0001 made them; SQLite cannot disable a trigger, only drop and remake it.
_SQLITE_TRIGGERS = {"audit_events_no_update": "UPDATE", "audit_events_no_delete": "DELETE"}


def upgrade() -> None:
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _suspend_append_only()
    last_id, last_hash = _hash_existing_events()
    with op.batch_alter_table("audit_events", recreate="auto") as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    _restore_append_only()
    op.bulk_insert(head, [{"id": 1, "last_id": last_id, "last_hash": last_hash}])


def downgrade() -> None:
    _suspend_append_only()
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    _restore_append_only()
    op.drop_table("audit_chain_head")


def _hash_existing_events() -> tuple[int, str]:
    """Chain the events already logged, oldest first; returns the newest id and hash."""
    bind = op.get_bind()
    set_hashes = (
        sa.update(_EVENTS)
        .where(_EVENTS.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("sealed"))
    )
    last_id, prev = 0, GENESIS
    while True:
        rows = bind.execute(
            sa.select(_EVENTS).where(_EVENTS.c.id > last_id).order_by(_EVENTS.c.id).limit(BATCH)
        ).all()
        if not rows:
            return last_id, prev
        changes = []
        for row in rows:
            sealed = seal({**row._mapping, "prev_hash": prev})
            changes.append({"event_id": row.id, "prev": prev, "sealed": sealed})
            last_id, prev = row.id, sealed
        bind.execute(set_hashes, changes)


def _suspend_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")


def _restore_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, event in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
