"""initial schema: the registry, referrals, offers, placements, keys and audit events

Audit events are made append-only by triggers, so not even a bug in the service (or a
stray UPDATE in a console) can rewrite who did what.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:04:59.302175
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_events_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "authorities",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("group_name", sa.String(length=120), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_authorities")),
    )
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorities_group_name"), ["group_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_authorities_region"), ["region"], unique=False)

    op.create_table(
        "protocols",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "group",
                "reciprocal",
                name="protocol_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "funding",
            sa.Enum(
                "placing_authority",
                "receiving_authority",
                "shared",
                name="funding",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("balance_cap", sa.Integer(), nullable=True),
        sa.Column("balance_period_days", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "balance_cap IS NULL OR balance_cap >= 0", name=op.f("ck_protocols_cap")
        ),
        sa.CheckConstraint("balance_period_days >= 1", name=op.f("ck_protocols_period")),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_protocols_dates")
        ),
        sa.CheckConstraint("notice_days >= 0", name=op.f("ck_protocols_notice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocols")),
    )
    op.create_table(
        "providers",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "specialisms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
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
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=12), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role NOT IN ('housing_officer', 'integration') OR authority_code IS NOT NULL) AND (role <> 'provider' OR provider_id IS NOT NULL) AND (role <> 'commissioner' OR authority_code IS NOT NULL OR region IS NOT NULL)",
            name=op.f("ck_api_keys_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_api_keys_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_api_keys_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "protocol_members",
        sa.Column("protocol_id", GUID(length=16), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_protocol_members_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"],
            ["protocols.id"],
            name=op.f("fk_protocol_members_protocol_id_protocols"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("protocol_id", "authority_code", name=op.f("pk_protocol_members")),
    )
    with op.batch_alter_table("protocol_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_protocol_members_authority_code"), ["authority_code"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "placed",
                "closed",
                name="referral_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "risk_level",
            sa.Enum(
                "standard",
                "medium",
                "high",
                name="risk_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("marac", sa.Boolean(), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("perpetrator_ref", sa.String(length=64), nullable=True),
        sa.Column("details_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_referrals_authority_code_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referrals_perpetrator_ref"), ["perpetrator_ref"], unique=False
        )
        batch_op.create_index(
            "ix_referrals_status_authority", ["status", "authority_code"], unique=False
        )
        batch_op.create_index(
            "uq_referrals_reference", ["authority_code", "reference"], unique=True
        )

    op.create_table(
        "rehousing_options",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("provider_id", GUID(length=16), nullable=True),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("postcode_district", sa.String(length=5), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("address_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column(
            "max_risk_level",
            sa.Enum(
                "standard",
                "medium",
                "high",
                name="risk_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "accepts_conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("bed_spaces", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "available",
                "occupied",
                "out_of_service",
                name="rehousing_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("available_from", sa.Date(), nullable=False),
        sa.Column("weekly_cost", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("bed_spaces >= 1", name=op.f("ck_rehousing_options_bed_spaces")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_rehousing_options_version")),
        sa.CheckConstraint("weekly_cost >= 0", name=op.f("ck_rehousing_options_weekly_cost")),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_rehousing_options_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_rehousing_options_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rehousing_options")),
    )
    with op.batch_alter_table("rehousing_options", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rehousing_options_authority_code"), ["authority_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rehousing_options_postcode_district"),
            ["postcode_district"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rehousing_options_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "schemes",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("provider_id", GUID(length=16), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "scheme_type",
            sa.Enum(
                "refuge",
                "specialist_safe_accommodation",
                "dispersed_accommodation",
                "sanctuary_scheme",
                "second_stage_accommodation",
                "other_emergency_accommodation",
                name="scheme_type",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("postcode_district", sa.String(length=5), nullable=False),
        sa.Column("location_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column(
            "gender_policy",
            sa.Enum(
                "women_only",
                "men_only",
                "any_gender",
                "lgbtq_specialist",
                name="gender_policy",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("max_boy_age", sa.Integer(), nullable=True),
        sa.Column(
            "max_risk_level",
            sa.Enum(
                "standard",
                "medium",
                "high",
                name="risk_level",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("accepts_nrpf", sa.Boolean(), nullable=False),
        sa.Column("accepts_pets", sa.Boolean(), nullable=False),
        sa.Column(
            "languages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "support",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("weekly_cost", sa.Float(), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_boy_age IS NULL OR (max_boy_age >= 0 AND max_boy_age <= 17)",
            name=op.f("ck_schemes_max_boy_age"),
        ),
        sa.CheckConstraint("weekly_cost >= 0", name=op.f("ck_schemes_weekly_cost")),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authorities.code"],
            name=op.f("fk_schemes_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_schemes_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schemes")),
    )
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schemes_authority_code"), ["authority_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_schemes_postcode_district"), ["postcode_district"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_schemes_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "units",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("scheme_id", GUID(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("bedrooms", sa.Integer(), nullable=False),
        sa.Column("bed_spaces", sa.Integer(), nullable=False),
        sa.Column("cots", sa.Integer(), nullable=False),
        sa.Column(
            "access_features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "available",
                "held",
                "occupied",
                "out_of_service",
                name="unit_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("available_from", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("bed_spaces >= 1", name=op.f("ck_units_bed_spaces")),
        sa.CheckConstraint("bedrooms >= 0", name=op.f("ck_units_bedrooms")),
        sa.CheckConstraint("cots >= 0", name=op.f("ck_units_cots")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_units_version")),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["schemes.id"], name=op.f("fk_units_scheme_id_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_scheme_id"), ["scheme_id"], unique=False)
        batch_op.create_index("ix_units_status_scheme", ["status", "scheme_id"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("referral_id", GUID(length=16), nullable=False),
        sa.Column("unit_id", GUID(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "live",
                "accepted",
                "declined",
                "expired",
                "withdrawn",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column(
            "decline_reason",
            sa.Enum(
                "risk_too_high",
                "needs_not_met",
                "too_close_to_perpetrator",
                "household_declined",
                "no_longer_available",
                "funding_not_agreed",
                "other",
                name="decline_reason",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("decline_note", sa.Text(), nullable=True),
        sa.Column("made_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decided_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL",
            name=op.f("ck_offers_declined_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_offers_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_offers_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_offers_live_unit",
            ["unit_id"],
            unique=True,
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )

    op.create_table(
        "placements",
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
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_placements_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_placements_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_placements_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_placements_offer_id")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_placements_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_placements_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_placements_current_unit",
            ["unit_id"],
            unique=True,
            sqlite_where=sa.text("moved_out_at IS NULL"),
            postgresql_where=sa.text("moved_out_at IS NULL"),
        )

    _make_audit_append_only()


def downgrade() -> None:
    _drop_audit_triggers()
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_placements_current_unit",
            sqlite_where=sa.text("moved_out_at IS NULL"),
            postgresql_where=sa.text("moved_out_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_placements_unit_id"))
        batch_op.drop_index(batch_op.f("ix_placements_referral_id"))

    op.drop_table("placements")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_offers_live_unit",
            sqlite_where=sa.text("status = 'live'"),
            postgresql_where=sa.text("status = 'live'"),
        )
        batch_op.drop_index(batch_op.f("ix_offers_unit_id"))
        batch_op.drop_index(batch_op.f("ix_offers_referral_id"))

    op.drop_table("offers")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index("ix_units_status_scheme")
        batch_op.drop_index(batch_op.f("ix_units_scheme_id"))

    op.drop_table("units")
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schemes_provider_id"))
        batch_op.drop_index(batch_op.f("ix_schemes_postcode_district"))
        batch_op.drop_index(batch_op.f("ix_schemes_authority_code"))

    op.drop_table("schemes")
    with op.batch_alter_table("rehousing_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rehousing_options_provider_id"))
        batch_op.drop_index(batch_op.f("ix_rehousing_options_postcode_district"))
        batch_op.drop_index(batch_op.f("ix_rehousing_options_authority_code"))

    op.drop_table("rehousing_options")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("uq_referrals_reference")
        batch_op.drop_index("ix_referrals_status_authority")
        batch_op.drop_index(batch_op.f("ix_referrals_perpetrator_ref"))

    op.drop_table("referrals")
    with op.batch_alter_table("protocol_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_protocol_members_authority_code"))

    op.drop_table("protocol_members")
    op.drop_table("api_keys")
    op.drop_table("providers")
    op.drop_table("protocols")
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorities_region"))
        batch_op.drop_index(batch_op.f("ix_authorities_group_name"))

    op.drop_table("authorities")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_record")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))

    op.drop_table("audit_events")


_SQLITE_TRIGGERS = ("audit_events_no_update", "audit_events_no_delete")


def _make_audit_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, event in zip(_SQLITE_TRIGGERS, ("UPDATE", "DELETE"), strict=True):
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
