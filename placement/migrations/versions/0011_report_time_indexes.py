"""indexes on the times the Part 4 report ranges over

Each measure of the report counts the records whose time (a referral's day, its outcome,
an offer's decision, a move-in, a move-out, a perpetrator's move) falls in the period.
Without these the database reads every referral of the area's authorities, each row
carrying its sealed household document, to keep a year of them: on the national year
that was most of the report's time in SQL. The referral indexes lead with the authority
(a report is always for some authorities) and carry the column counted, so the count
is read from the index alone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_referrals_authority_referred_on",
        "referrals",
        ["authority_code", "referred_on", "risk_level"],
    ),
    (
        "ix_referrals_authority_outcome_at",
        "referrals",
        ["authority_code", "outcome", "outcome_at", "unable_reason"],
    ),
    ("ix_offers_status_decided_at", "offers", ["status", "decided_at"]),
    ("ix_placements_moved_in_at", "placements", ["moved_in_at"]),
    ("ix_placements_moved_out_at", "placements", ["moved_out_at"]),
    ("ix_perpetrator_moves_status_accepted_at", "perpetrator_moves", ["status", "accepted_at"]),
)
"""(name, table, columns) of each index."""


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
