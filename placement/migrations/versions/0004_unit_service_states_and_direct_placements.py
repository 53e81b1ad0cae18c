"""why a unit is out of service and when it is due back; placements recorded directly

A provider taking a unit out of service says why (a fixed list) and, if it knows, when
the unit is expected back. A provider's own placement of a household that did not come
through an offer is a placement like any other, so `placements.offer_id` may be empty.
Units already out of service are given the reason `other`.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    "repairs",
    "decoration",
    "staffing",
    "safety_concern",
    "compromised_location",
    "other",
)
REASON_CHECK = "out_of_service_reason IN ({})".format(", ".join(f"'{r}'" for r in REASONS))
CURRENT_PLACEMENT = sa.text("moved_out_at IS NULL")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite adds a column with its own CHECK in place; a batch copy of `units` would
        # drop the change-feed triggers.
        op.execute(
            "ALTER TABLE units ADD COLUMN out_of_service_reason VARCHAR(40) "
            f"CONSTRAINT ck_units_out_of_service_reason CHECK ({REASON_CHECK})"
        )
    else:
        op.add_column("units", sa.Column("out_of_service_reason", sa.String(40), nullable=True))
        op.create_check_constraint("ck_units_out_of_service_reason", "units", REASON_CHECK)
    op.add_column("units", sa.Column("expected_back_on", sa.Date(), nullable=True))
    op.execute("UPDATE units SET out_of_service_reason = 'other' WHERE status = 'out_of_service'")
    _offer_id_nullable(nullable=True, sqlite=sqlite)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DELETE FROM placements WHERE offer_id IS NULL")
    _offer_id_nullable(nullable=False, sqlite=sqlite)
    op.drop_column("units", "expected_back_on")
    if not sqlite:
        op.drop_constraint("ck_units_out_of_service_reason", "units", type_="check")
    op.drop_column("units", "out_of_service_reason")


def _offer_id_nullable(*, nullable: bool, sqlite: bool) -> None:
    if not sqlite:
        op.alter_column("placements", "offer_id", existing_type=GUID(length=16), nullable=nullable)
        return
    # SQLite rebuilds the table: its indexes come with the copy, and its change-feed
    # triggers are made again here, as 0002 made them.
    # Reflection reads SQLite's BINARY(16) back as NUMERIC(16): copy from the table as
    # 0001 made it instead.
    with op.batch_alter_table(
        "placements", recreate="always", copy_from=_placements_as_made()
    ) as batch_op:
        batch_op.alter_column("offer_id", existing_type=GUID(length=16), nullable=nullable)
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(f"DROP TRIGGER IF EXISTS registry_change_placements_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER registry_change_placements_{event.lower()} AFTER {event} "
            "ON placements BEGIN INSERT INTO registry_changes (table_name, row_id) "
            f"VALUES ('placements', lower(hex({row}.id))); END"
        )


def _placements_as_made() -> sa.Table:
    """The placements table of 0001, for SQLite's batch copy."""
    return sa.Table(
        "placements",
        sa.MetaData(),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("referral_id", GUID(length=16), nullable=False),
        sa.Column("unit_id", GUID(length=16), nullable=False),
        sa.Column("offer_id", GUID(length=16), nullable=False),
        sa.Column("moved_in_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("moved_out_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("move_on_outcome", sa.String(length=80), nullable=True),
        sa.Column("address_revealed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name="fk_placements_offer_id_offers"),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name="fk_placements_referral_id_referrals"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_placements_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_placements"),
        sa.UniqueConstraint("offer_id", name="uq_placements_offer_id"),
        sa.Index("ix_placements_referral_id", "referral_id"),
        sa.Index("ix_placements_unit_id", "unit_id"),
        sa.Index(
            "uq_placements_current_unit", "unit_id", unique=True, sqlite_where=CURRENT_PLACEMENT
        ),
    )
