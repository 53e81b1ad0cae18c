"""explicit links between two authorities' perpetrator references

A perpetrator reference is its authority's own; two authorities that know their cases
name the same perpetrator link the references (one proposes, the other confirms), and
only then are the households kept apart across the two.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status <> 'withdrawn'")


def upgrade() -> None:
    op.create_table(
        "perpetrator_links",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("perpetrator_ref", sa.String(length=64), nullable=False),
        sa.Column("partner_authority_code", sa.String(length=9), nullable=False),
        sa.Column("partner_perpetrator_ref", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "confirmed",
                "withdrawn",
                name="link_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("proposed_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("confirmed_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("withdrawn_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("withdrawn_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "authority_code <> partner_authority_code",
            name=op.f("ck_perpetrator_links_two_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_perpetrator_links_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_authority_code"],
            ["authorities.code"],
            name=op.f("fk_perpetrator_links_partner_authority_code_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perpetrator_links")),
    )
    with op.batch_alter_table("perpetrator_links") as batch:
        batch.create_index(
            "uq_perpetrator_links_pair",
            [
                "authority_code",
                "perpetrator_ref",
                "partner_authority_code",
                "partner_perpetrator_ref",
            ],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
        batch.create_index(
            "ix_perpetrator_links_own", ["authority_code", "perpetrator_ref", "status"]
        )
        batch.create_index(
            "ix_perpetrator_links_partner",
            ["partner_authority_code", "partner_perpetrator_ref", "status"],
        )


def downgrade() -> None:
    op.drop_table("perpetrator_links")
