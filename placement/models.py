"""SQLAlchemy models: the whole persistent domain of DESIGN.md section 4.

Rules that must hold whatever code runs (one live offer per unit, one current placement
per unit, sane capacities, role scopes on keys) are constraints here, so the database
enforces them rather than hope. Secrets (scheme addresses and exact coordinates,
household details) are stored only as Fernet ciphertext; see `placement.crypto`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from advanced_alchemy.base import DefaultBase, UUIDAuditBase
from advanced_alchemy.extensions.litestar.session import SessionModelMixin
from advanced_alchemy.mixins import AuditColumns
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placement.enums import (
    DeclineReason,
    Funding,
    GenderPolicy,
    LinkStatus,
    MoveOutReason,
    OfferStatus,
    OutOfServiceReason,
    PerpetratorMoveStatus,
    ProtocolKind,
    ReferralOutcome,
    ReferralStatus,
    RehousingStatus,
    RiskLevel,
    Role,
    SchemeType,
    UnableReason,
    UnitStatus,
)

JsonB = JSON().with_variant(JSONB(), "postgresql")
"""JSON documents; JSONB on PostgreSQL so they can be indexed and compared."""


def _enum(enum_type: type[StrEnum], name: str) -> SAEnum:
    """A portable enum column: VARCHAR plus a CHECK constraint holding the wire values."""
    return SAEnum(
        enum_type,
        name=name,
        native_enum=False,
        length=40,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Authority(AuditColumns, DefaultBase):
    """A tier-one or lower-tier local authority, keyed by its ONS (GSS) code."""

    __tablename__ = "authorities"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(60), index=True)
    group_name: Mapped[str | None] = mapped_column(String(120), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Provider(UUIDAuditBase):
    """An organisation that runs safe-accommodation schemes or rehousing options."""

    __tablename__ = "providers"

    name: Mapped[str] = mapped_column(String(200))
    specialisms: Mapped[list[str]] = mapped_column(JsonB, default=list)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Scheme(UUIDAuditBase):
    """A refuge or other Part 4 safe accommodation, with the policy that decides who it takes.

    `location_ciphertext` holds the address, full postcode and exact coordinates; only the
    postcode district and authority are stored in clear, because that is all most users
    may see and a database dump must not reveal where a refuge is.
    """

    __tablename__ = "schemes"
    __table_args__ = (
        CheckConstraint(
            "max_boy_age IS NULL OR (max_boy_age >= 0 AND max_boy_age <= 17)", name="max_boy_age"
        ),
        CheckConstraint("weekly_cost >= 0", name="weekly_cost"),
    )

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scheme_type: Mapped[SchemeType] = mapped_column(_enum(SchemeType, "scheme_type"))
    postcode_district: Mapped[str] = mapped_column(String(5), index=True)
    location_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    gender_policy: Mapped[GenderPolicy] = mapped_column(_enum(GenderPolicy, "gender_policy"))
    max_boy_age: Mapped[int | None] = mapped_column(Integer)
    max_risk_level: Mapped[RiskLevel] = mapped_column(_enum(RiskLevel, "risk_level"))
    accepts_nrpf: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_pets: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list[str]] = mapped_column(JsonB, default=list)
    support: Mapped[list[str]] = mapped_column(JsonB, default=list)
    weekly_cost: Mapped[float] = mapped_column(Float, default=0.0)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    provider: Mapped[Provider] = relationship(lazy="raise")


class Unit(UUIDAuditBase):
    """A room, flat or house in a scheme. `version` guards against lost updates.

    `held` and `occupied` are set only by offers and placements; `out_of_service` carries
    why, and when the provider expects the unit back (both cleared when it returns).
    """

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("bed_spaces >= 1", name="bed_spaces"),
        CheckConstraint("bedrooms >= 0", name="bedrooms"),
        CheckConstraint("cots >= 0", name="cots"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_units_status_scheme", "status", "scheme_id"),
    )

    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schemes.id"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    bedrooms: Mapped[int] = mapped_column(Integer)
    bed_spaces: Mapped[int] = mapped_column(Integer)
    cots: Mapped[int] = mapped_column(Integer, default=0)
    access_features: Mapped[list[str]] = mapped_column(JsonB, default=list)
    status: Mapped[UnitStatus] = mapped_column(_enum(UnitStatus, "unit_status"))
    out_of_service_reason: Mapped[OutOfServiceReason | None] = mapped_column(
        _enum(OutOfServiceReason, "out_of_service_reason")
    )
    expected_back_on: Mapped[date | None] = mapped_column(Date)
    available_from: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    scheme: Mapped[Scheme] = relationship(lazy="raise")


class Protocol(UUIDAuditBase):
    """A cross-border agreement: members may place into one another on these terms."""

    __tablename__ = "protocols"
    __table_args__ = (
        CheckConstraint("balance_cap IS NULL OR balance_cap >= 0", name="cap"),
        CheckConstraint("notice_days >= 0", name="notice"),
        CheckConstraint("balance_period_days >= 1", name="period"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProtocolKind] = mapped_column(_enum(ProtocolKind, "protocol_kind"))
    funding: Mapped[Funding] = mapped_column(_enum(Funding, "funding"))
    notice_days: Mapped[int] = mapped_column(Integer, default=0)
    balance_cap: Mapped[int | None] = mapped_column(Integer)
    balance_period_days: Mapped[int] = mapped_column(Integer, default=365)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))

    members: Mapped[list[ProtocolMember]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ProtocolMember.authority_code"
    )


class ProtocolMember(DefaultBase):
    __tablename__ = "protocol_members"

    protocol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("protocols.id", ondelete="CASCADE"), primary_key=True
    )
    authority_code: Mapped[str] = mapped_column(
        ForeignKey("authorities.code"), primary_key=True, index=True
    )


class RehousingOption(UUIDAuditBase):
    """Accommodation for a perpetrator, so the victim and children can stay at home."""

    __tablename__ = "rehousing_options"
    __table_args__ = (
        CheckConstraint("bed_spaces >= 1", name="bed_spaces"),
        CheckConstraint("weekly_cost >= 0", name="weekly_cost"),
        CheckConstraint("version >= 1", name="version"),
    )

    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    postcode_district: Mapped[str] = mapped_column(String(5), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    address_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    max_risk_level: Mapped[RiskLevel] = mapped_column(_enum(RiskLevel, "risk_level"))
    accepts_conditions: Mapped[list[str]] = mapped_column(JsonB, default=list)
    bed_spaces: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[RehousingStatus] = mapped_column(_enum(RehousingStatus, "rehousing_status"))
    available_from: Mapped[date] = mapped_column(Date)
    weekly_cost: Mapped[float] = mapped_column(Float, default=0.0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    retired_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class Referral(UUIDAuditBase):
    """A household referred for safe accommodation, under a pseudonymous reference only.

    The household's make-up, needs and every location tied to it (perpetrator zones,
    schools, places to stay near, home) are one encrypted JSON document; the clear
    columns are what lists, scoping and reports need.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        Index("uq_referrals_reference", "authority_code", "reference", unique=True),
        Index("ix_referrals_status_authority", "status", "authority_code"),
        # The Part 4 report's ranges, the counted column carried (migration 0011).
        Index("ix_referrals_authority_referred_on", "authority_code", "referred_on", "risk_level"),
        Index(
            "ix_referrals_authority_outcome_at",
            "authority_code",
            "outcome",
            "outcome_at",
            "unable_reason",
        ),
        CheckConstraint(
            "(outcome = 'unable_to_support' AND unable_reason IS NOT NULL) OR "
            "((outcome IS NULL OR outcome <> 'unable_to_support') AND unable_reason IS NULL)",
            name="unable_has_reason",
        ),
        CheckConstraint(
            "(outcome = 'placed' AND outcome_scheme_type IS NOT NULL) OR "
            "((outcome IS NULL OR outcome <> 'placed') AND outcome_scheme_type IS NULL)",
            name="placed_has_type",
        ),
    )

    reference: Mapped[str] = mapped_column(String(64))
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, "referral_status"))
    risk_level: Mapped[RiskLevel] = mapped_column(_enum(RiskLevel, "risk_level"))
    marac: Mapped[bool] = mapped_column(Boolean, default=False)
    referred_on: Mapped[date] = mapped_column(Date)
    perpetrator_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    details_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outcome: Mapped[ReferralOutcome | None] = mapped_column(_enum(ReferralOutcome, "outcome"))
    """How the referral ended; empty while it is open (and for referrals closed before
    outcomes were recorded)."""
    outcome_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    """When the outcome was reached: the move-in, the perpetrator's move, or the closing."""
    outcome_scheme_type: Mapped[SchemeType | None] = mapped_column(
        _enum(SchemeType, "outcome_scheme_type")
    )
    """For `placed`: the Part 4 accommodation type, the placement's scheme's type."""
    unable_reason: Mapped[UnableReason | None] = mapped_column(_enum(UnableReason, "unable_reason"))
    """For `unable_to_support`: why, from the fixed list."""
    unmet_reason_codes: Mapped[list[str] | None] = mapped_column(JsonB)
    """For `needs_not_met`: the matcher's reason codes that ruled every unit out, from the
    referral's latest match snapshot."""


class PerpetratorLink(UUIDAuditBase):
    """Two authorities' references for the same perpetrator, linked explicitly.

    A perpetrator reference is its authority's own; only a link that the other authority
    has confirmed (or an admin recorded) makes the two references one person for
    keep-apart. At most one link that is not withdrawn per ordered pair of references.
    """

    __tablename__ = "perpetrator_links"
    __table_args__ = (
        Index(
            "uq_perpetrator_links_pair",
            "authority_code",
            "perpetrator_ref",
            "partner_authority_code",
            "partner_perpetrator_ref",
            unique=True,
            sqlite_where=text("status <> 'withdrawn'"),
            postgresql_where=text("status <> 'withdrawn'"),
        ),
        Index("ix_perpetrator_links_own", "authority_code", "perpetrator_ref", "status"),
        Index(
            "ix_perpetrator_links_partner",
            "partner_authority_code",
            "partner_perpetrator_ref",
            "status",
        ),
        CheckConstraint("authority_code <> partner_authority_code", name="two_authorities"),
    )

    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    perpetrator_ref: Mapped[str] = mapped_column(String(64))
    partner_authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    partner_perpetrator_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[LinkStatus] = mapped_column(_enum(LinkStatus, "link_status"))
    proposed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    confirmed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    withdrawn_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Offer(UUIDAuditBase):
    """A unit held for a household for a limited time."""

    __tablename__ = "offers"
    __table_args__ = (
        # At most one live offer per unit, whoever races for it.
        Index(
            "uq_offers_live_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
        CheckConstraint(
            "status <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"
        ),
        Index("ix_offers_status_decided_at", "status", "decided_at"),  # the Part 4 report
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus, "offer_status"))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    decline_reason: Mapped[DeclineReason | None] = mapped_column(
        _enum(DeclineReason, "decline_reason")
    )
    decline_note: Mapped[str | None] = mapped_column(Text)
    made_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    decided_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Placement(UUIDAuditBase):
    """A move-in and, later, the move-on.

    A placement comes from an accepted offer, or (`offer_id` empty) is a provider's own
    placement of a household that came to it directly, recorded so that the unit's
    occupancy and the household are in the reports like any other.
    """

    __tablename__ = "placements"
    __table_args__ = (
        # At most one current placement per unit.
        Index(
            "uq_placements_current_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("moved_out_at IS NULL"),
            postgresql_where=text("moved_out_at IS NULL"),
        ),
        # The Part 4 report's ranges (migration 0011).
        Index("ix_placements_moved_in_at", "moved_in_at"),
        Index("ix_placements_moved_out_at", "moved_out_at"),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    offer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offers.id"), unique=True)
    moved_in_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    moved_out_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    move_out_reason: Mapped[MoveOutReason | None] = mapped_column(
        _enum(MoveOutReason, "move_out_reason")
    )
    """Why support ended (set with `moved_out_at`)."""
    address_revealed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class PerpetratorMove(UUIDAuditBase):
    """A perpetrator rehoused so the household can stay at home, booked like a placement.

    An officer holds a rehousing option for a referral (the option becomes occupied, so
    nobody else is offered it), then records that the perpetrator moved in (`accepted`,
    which ends the referral with the outcome `perpetrator_moved`) or withdraws the hold;
    an accepted move ends when the perpetrator leaves, freeing the option. As with
    offers, the database keeps one live (held or accepted) move per option and per
    referral, whoever races for it.
    """

    __tablename__ = "perpetrator_moves"
    __table_args__ = (
        Index(
            "uq_perpetrator_moves_live_option",
            "option_id",
            unique=True,
            sqlite_where=text("status IN ('held', 'accepted')"),
            postgresql_where=text("status IN ('held', 'accepted')"),
        ),
        Index(
            "uq_perpetrator_moves_live_referral",
            "referral_id",
            unique=True,
            sqlite_where=text("status IN ('held', 'accepted')"),
            postgresql_where=text("status IN ('held', 'accepted')"),
        ),
        CheckConstraint(
            "status NOT IN ('accepted', 'ended') OR accepted_at IS NOT NULL", name="accepted_at"
        ),
        CheckConstraint("status <> 'ended' OR ended_at IS NOT NULL", name="ended_at"),
        Index("ix_perpetrator_moves_status_accepted_at", "status", "accepted_at"),  # Part 4
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    option_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rehousing_options.id"), index=True)
    status: Mapped[PerpetratorMoveStatus] = mapped_column(
        _enum(PerpetratorMoveStatus, "perpetrator_move_status")
    )
    held_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    made_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class ReferralCharacteristics(DefaultBase):
    """The Part 4 return's characteristics of a referral's household, in clear columns.

    Coarse counts and yes/no flags only (no ages, no places, nothing that identifies a
    person), so reports aggregate them in SQL without decrypting any household. They are
    derived from the household document by one function
    (`placement.characteristics.characteristics_of`) whenever the document is written,
    in the same transaction, so they cannot drift from it.
    """

    __tablename__ = "referral_characteristics"
    __table_args__ = tuple(
        CheckConstraint(f"{name} >= 0", name=name)
        for name in (
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
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    women: Mapped[int] = mapped_column(Integer)
    """Adults (the victim, and members 18 and over) who are women, trans women not
    counted twice: the return counts trans adults on their own line."""
    men: Mapped[int] = mapped_column(Integer)
    trans_adults: Mapped[int] = mapped_column(Integer)
    other_adults: Mapped[int] = mapped_column(Integer)
    """Adults who are neither (non-binary, not trans)."""
    children: Mapped[int] = mapped_column(Integer)
    aged_0_4: Mapped[int] = mapped_column(Integer)
    aged_5_11: Mapped[int] = mapped_column(Integer)
    aged_12_15: Mapped[int] = mapped_column(Integer)
    aged_16_17: Mapped[int] = mapped_column(Integer)
    aged_18_24: Mapped[int] = mapped_column(Integer)
    aged_25_34: Mapped[int] = mapped_column(Integer)
    aged_35_44: Mapped[int] = mapped_column(Integer)
    aged_45_59: Mapped[int] = mapped_column(Integer)
    aged_60_plus: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[int] = mapped_column(Integer)
    """Members with a disability they state, or an access need."""
    black_and_minoritised: Mapped[bool] = mapped_column(Boolean)
    lgbtq: Mapped[bool] = mapped_column(Boolean)
    nrpf: Mapped[bool] = mapped_column(Boolean)
    mental_health: Mapped[bool] = mapped_column(Boolean)
    substance_use: Mapped[bool] = mapped_column(Boolean)
    complex_needs: Mapped[bool] = mapped_column(Boolean)
    older_victim: Mapped[bool] = mapped_column(Boolean)
    """The victim is 60 or over."""
    young_victim: Mapped[bool] = mapped_column(Boolean)
    """The victim is 16 to 24."""
    male_victim: Mapped[bool] = mapped_column(Boolean)
    wheelchair_user: Mapped[bool] = mapped_column(Boolean)
    boy_over_12: Mapped[bool] = mapped_column(Boolean)
    """A boy (a male child) over 12: many refuges cannot take him."""


class ApiKey(UUIDAuditBase):
    """A bearer key. Only its SHA-256 is stored; the key itself is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "(role NOT IN ('housing_officer', 'integration') OR authority_code IS NOT NULL)"
            " AND (role <> 'provider' OR provider_id IS NOT NULL)"
            " AND (role <> 'commissioner' OR authority_code IS NOT NULL OR region IS NOT NULL)",
            name="scope",
        ),
    )

    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    authority_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"))
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id"))
    region: Mapped[str | None] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class User(UUIDAuditBase):
    """A person who signs in to the pages: the same roles and scopes as an API key.

    Only an argon2 hash of the password is kept. Failed sign-ins are counted from the
    first failure in a window; past the limit the account is locked until `locked_until`.
    Accounts are disabled, never deleted, so the audit trail's names stay meaningful.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role NOT IN ('housing_officer', 'integration') OR authority_code IS NOT NULL)"
            " AND (role <> 'provider' OR provider_id IS NOT NULL)"
            " AND (role <> 'commissioner' OR authority_code IS NOT NULL OR region IS NOT NULL)",
            name="scope",
        ),
    )

    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    authority_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"))
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id"))
    region: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_signed_in_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class PageSession(SessionModelMixin):
    """A signed-in browser's server-side session (advanced-alchemy's Litestar backend).

    The cookie holds only a random id; the data (the user's id, when they signed in)
    lives here, so a sign-out or a disabled account ends it on every worker at once.
    """

    __tablename__ = "page_sessions"


class AuditEvent(DefaultBase):
    """Who did what to which record, when. Append-only: database triggers refuse changes,
    and each event seals its predecessor's hash, so a change made past the triggers shows
    (see `placement.audit_chain`, the only writer: ids come from its chain head)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


AUDIT_CHAIN_HEAD_ID = 1


class AuditChainHead(DefaultBase):
    """The newest audit event's id and hash, in a row of its own.

    Appends lock this row, so they extend the chain one at a time; and a log whose newest
    events were deleted still shows it, as the head names an event that is not there.
    """

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint(f"id = {AUDIT_CHAIN_HEAD_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class IdempotencyRecord(DefaultBase):
    """The first result of a POST sent with an Idempotency-Key, so a retry creates nothing.

    Keyed per API key, so two integrations cannot collide. It stores which record was
    created or changed, not the response body, so no household data or address is copied
    here; only an answer that is no record (an allocation run's proposals, which show
    areas, never addresses) is kept as the document in `response`.
    """

    __tablename__ = "idempotency_records"

    api_key_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    # Plain JSON, not JSONB, so a replay gives back the document as it was first sent.
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class RegistryChange(DefaultBase):
    """A change feed written by database triggers on every registry row the matcher uses.

    Each worker keeps an in-memory index of units for fast matching; it asks this table
    for changes after the last sequence number it has seen and reloads just those rows.
    Because triggers write it, no code path can change a unit and forget to say so.
    """

    __tablename__ = "registry_changes"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    table_name: Mapped[str] = mapped_column(String(40))
    row_id: Mapped[str] = mapped_column(String(64))


class DecisionSnapshot(DefaultBase):
    """What a match or an allocation was decided on, and what it decided: enough to replay
    it and to count unmet need.

    The inputs are the registry change feed's position (the registry as the matcher saw
    it), the weights, the date, and a hash of each household document's stored version;
    the result is the counts and the ranked units (a match) or every case's outcome (an
    allocation). No foreign keys and no checks: a match's snapshot is written in the read
    audit's batch, and nothing in it may be able to fail that batch.
    """

    __tablename__ = "decision_snapshots"
    __table_args__ = (Index("ix_decision_snapshots_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    kind: Mapped[str] = mapped_column(String(20))
    """`match` or `allocation`."""
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    authority_code: Mapped[str | None] = mapped_column(String(9))
    """The deciding officer's authority (reports aggregate by it)."""
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    """The household matched (matches only; an allocation lists its cases in `inputs`)."""
    feed_seq: Mapped[int] = mapped_column(BigInteger)
    """The newest `registry_changes.seq` the matcher's registry snapshot had seen."""
    as_of: Mapped[date] = mapped_column(Date)
    weights: Mapped[dict[str, Any]] = mapped_column(JsonB)
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonB)
    result: Mapped[dict[str, Any]] = mapped_column(JsonB)


class Job(DefaultBase):
    """A long run (a what-if, a region's allocation) as a resource that outlives any one
    process: queued, running with progress and a heartbeat, then its result or error.

    Who asked and for which area are kept, so the same row filter as the reports applies
    to reading it. `cancel_requested` is how a cancel reaches a run on another host: the
    runner reads it with each heartbeat.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    requested_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    requested_by_label: Mapped[str] = mapped_column(String(200))
    requester_role: Mapped[str] = mapped_column(String(30))
    scope_authority_code: Mapped[str | None] = mapped_column(String(9))
    scope_region: Mapped[str | None] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JsonB)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
