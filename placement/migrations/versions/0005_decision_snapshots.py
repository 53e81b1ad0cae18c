"""decision snapshots: what each match and allocation was decided on, and decided

Every match and allocation records the registry change feed's position, its weights,
its date, a hash of each household document version and its result, so that a past
decision can be replayed and unmet need counted.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "decision_snapshots",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("authority_code", sa.String(length=9), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("feed_seq", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("weights", JSON, nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_snapshots")),
    )
    op.create_index(
        "ix_decision_snapshots_kind_at", "decision_snapshots", ["kind", "at"], unique=False
    )
    op.create_index(
        op.f("ix_decision_snapshots_referral_id"),
        "decision_snapshots",
        ["referral_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_snapshots_referral_id"), table_name="decision_snapshots")
    op.drop_index("ix_decision_snapshots_kind_at", table_name="decision_snapshots")
    op.drop_table("decision_snapshots")
