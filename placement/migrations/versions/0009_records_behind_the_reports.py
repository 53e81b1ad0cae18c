"""the records behind the Part 4 reports: referral outcomes, why support ended,
perpetrator moves, and each referral's characteristics in clear columns

A referral now ends with an outcome (placed, with the scheme's accommodation type;
perpetrator moved; or unable to be supported, with a reason from a fixed list and, for
needs not met, the matcher's reason codes). Referrals already placed get `placed` with
their placement's scheme type; referrals closed before this revision keep no outcome
(their free-text reason cannot be mapped honestly).

`placements.move_on_outcome` (free text) becomes `move_out_reason`, a fixed list; the
old values map: settled_accommodation -> settled_social, another_safe_accommodation ->
other_safe_accommodation, returned_home_perpetrator_removed -> no_longer_needed,
returned_to_perpetrator and left_without_notice as they were, anything else -> other.

`referral_characteristics` rows are derived by the service from the (encrypted)
household document; a migration cannot decrypt, so referrals registered before this
revision get theirs from `placement backfill-characteristics`.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OUTCOMES = ("placed", "perpetrator_moved", "unable_to_support")
SCHEME_TYPES = (
    "refuge",
    "specialist_safe_accommodation",
    "dispersed_accommodation",
    "sanctuary_scheme",
    "second_stage_accommodation",
    "other_emergency_accommodation",
)
UNABLE = (
    "no_space",
    "needs_not_met",
    "risk_too_high",
    "ineligible",
    "declined_or_withdrew",
    "not_contactable",
    "other",
)
MOVE_OUT = (
    "no_longer_needed",
    "settled_social",
    "settled_private",
    "other_safe_accommodation",
    "returned_to_perpetrator",
    "evicted_or_asked_to_leave",
    "left_without_notice",
    "other",
)
MOVE_STATUSES = ("held", "accepted", "withdrawn", "ended")
OLD_TO_NEW = {
    "settled_accommodation": "settled_social",
    "another_safe_accommodation": "other_safe_accommodation",
    "returned_home_perpetrator_removed": "no_longer_needed",
    "returned_to_perpetrator": "returned_to_perpetrator",
    "left_without_notice": "left_without_notice",
}
COUNTS = (
    "women",
    "men",
    "trans_adults",
    "other_adults",
    "children",
    "aged_0_4",
    "aged_5_11",
    "aged_12_15",
    "aged_16_17",
    "aged_18_24",
    "aged_25_34",
    "aged_35_44",
    "aged_45_59",
    "aged_60_plus",
    "disabled",
)
FLAGS = (
    "black_and_minoritised",
    "lgbtq",
    "nrpf",
    "mental_health",
    "substance_use",
    "complex_needs",
    "older_victim",
    "young_victim",
    "male_victim",
    "wheelchair_user",
    "boy_over_12",
)
LIVE_MOVE = sa.text("status IN ('held', 'accepted')")


def _in(column: str, values: Sequence[str]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


UNABLE_HAS_REASON = (
    "(outcome = 'unable_to_support' AND unable_reason IS NOT NULL) OR "
    "((outcome IS NULL OR outcome <> 'unable_to_support') AND unable_reason IS NULL)"
)
PLACED_HAS_TYPE = (
    "(outcome = 'placed' AND outcome_scheme_type IS NOT NULL) OR "
    "((outcome IS NULL OR outcome <> 'placed') AND outcome_scheme_type IS NULL)"
)
REFERRAL_CHECKS = {
    "outcome": _in("outcome", OUTCOMES),
    "outcome_scheme_type": _in("outcome_scheme_type", SCHEME_TYPES),
    "unable_reason": _in("unable_reason", UNABLE),
    "unable_has_reason": UNABLE_HAS_REASON,
    "placed_has_type": PLACED_HAS_TYPE,
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _referral_outcomes(sqlite)
    _move_out_reasons(sqlite)
    op.create_table(
        "perpetrator_moves",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("referral_id", GUID(length=16), nullable=False),
        sa.Column("option_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("held_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("accepted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("withdrawn_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("ended_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("made_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("status", MOVE_STATUSES), name=op.f("ck_perpetrator_moves_perpetrator_move_status")
        ),
        sa.CheckConstraint(
            "status NOT IN ('accepted', 'ended') OR accepted_at IS NOT NULL",
            name=op.f("ck_perpetrator_moves_accepted_at"),
        ),
        sa.CheckConstraint(
            "status <> 'ended' OR ended_at IS NOT NULL", name=op.f("ck_perpetrator_moves_ended_at")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_perpetrator_moves_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["rehousing_options.id"],
            name=op.f("fk_perpetrator_moves_option_id_rehousing_options"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perpetrator_moves")),
    )
    op.create_index("ix_perpetrator_moves_referral_id", "perpetrator_moves", ["referral_id"])
    op.create_index("ix_perpetrator_moves_option_id", "perpetrator_moves", ["option_id"])
    for column in ("option_id", "referral_id"):
        op.create_index(
            f"uq_perpetrator_moves_live_{column.removesuffix('_id')}",
            "perpetrator_moves",
            [column],
            unique=True,
            sqlite_where=LIVE_MOVE,
            postgresql_where=LIVE_MOVE,
        )
    op.create_table(
        "referral_characteristics",
        sa.Column("referral_id", GUID(length=16), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Boolean(), nullable=False) for name in FLAGS),
        *(
            sa.CheckConstraint(f"{name} >= 0", name=op.f(f"ck_referral_characteristics_{name}"))
            for name in COUNTS
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_characteristics_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_characteristics")),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("referral_characteristics")
    op.drop_table("perpetrator_moves")
    op.add_column("placements", sa.Column("move_on_outcome", sa.String(80), nullable=True))
    op.execute("UPDATE placements SET move_on_outcome = move_out_reason")
    if not sqlite:
        op.drop_constraint("ck_placements_move_out_reason", "placements", type_="check")
    op.execute("ALTER TABLE placements DROP COLUMN move_out_reason")
    if not sqlite:
        for name in reversed(REFERRAL_CHECKS):
            op.drop_constraint(f"ck_referrals_{name}", "referrals", type_="check")
    for column in ("unmet_reason_codes", "unable_reason", "outcome_scheme_type", "outcome_at"):
        op.execute(f"ALTER TABLE referrals DROP COLUMN {column}")
    op.execute("ALTER TABLE referrals DROP COLUMN outcome")


def _referral_outcomes(sqlite: bool) -> None:
    columns = {
        "outcome": "VARCHAR(40)",
        "outcome_at": "DATETIME" if sqlite else "TIMESTAMP WITH TIME ZONE",
        "outcome_scheme_type": "VARCHAR(40)",
        "unable_reason": "VARCHAR(40)",
        "unmet_reason_codes": "JSON" if sqlite else "JSONB",
    }
    if sqlite:
        # SQLite adds a column with its CHECK in place (no table copy); the checks across
        # columns ride on the last column they name.
        inline = {
            "outcome": ["outcome"],
            "outcome_scheme_type": ["outcome_scheme_type"],
            "unable_reason": ["unable_reason", "unable_has_reason", "placed_has_type"],
        }
        for column, sql_type in columns.items():
            checks = " ".join(
                f"CONSTRAINT ck_referrals_{name} CHECK ({REFERRAL_CHECKS[name]})"
                for name in inline.get(column, [])
            )
            op.execute(f"ALTER TABLE referrals ADD COLUMN {column} {sql_type} {checks}".strip())
    else:
        for column, sql_type in columns.items():
            op.execute(f"ALTER TABLE referrals ADD COLUMN {column} {sql_type}")
    # A placed referral's outcome is on record already: its placement's scheme type.
    op.execute(
        "UPDATE referrals SET outcome = 'placed', "
        "outcome_at = (SELECT min(p.moved_in_at) FROM placements p "
        "WHERE p.referral_id = referrals.id), "
        "outcome_scheme_type = (SELECT s.scheme_type FROM placements p "
        "JOIN units u ON u.id = p.unit_id JOIN schemes s ON s.id = u.scheme_id "
        "WHERE p.referral_id = referrals.id ORDER BY p.moved_in_at DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM placements p WHERE p.referral_id = referrals.id)"
    )
    if not sqlite:
        for name, check in REFERRAL_CHECKS.items():
            op.create_check_constraint(f"ck_referrals_{name}", "referrals", check)


def _move_out_reasons(sqlite: bool) -> None:
    check = _in("move_out_reason", MOVE_OUT)
    if sqlite:
        # Native ADD and DROP COLUMN: a batch copy of `placements` would drop its
        # change-feed triggers.
        op.execute(
            "ALTER TABLE placements ADD COLUMN move_out_reason VARCHAR(40) "
            f"CONSTRAINT ck_placements_move_out_reason CHECK ({check})"
        )
    else:
        op.add_column("placements", sa.Column("move_out_reason", sa.String(40), nullable=True))
        op.create_check_constraint("ck_placements_move_out_reason", "placements", check)
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in OLD_TO_NEW.items())
    op.execute(
        f"UPDATE placements SET move_out_reason = CASE move_on_outcome {cases} ELSE 'other' END "
        "WHERE move_on_outcome IS NOT NULL"
    )
    op.execute("ALTER TABLE placements DROP COLUMN move_on_outcome")
