"""The fixed vocabularies of the domain, as they appear on the wire and in the database.

Values are snake_case strings; the optimiser has its own copy of the ones it needs (it
imports nothing of ours), and tests check the two stay identical.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    HOUSING_OFFICER = "housing_officer"
    INTEGRATION = "integration"
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"


class SchemeType(StrEnum):
    """Part 4 'relevant accommodation' types (SI 2021/991); bed and breakfast is not one."""

    REFUGE = "refuge"
    SPECIALIST_SAFE_ACCOMMODATION = "specialist_safe_accommodation"
    DISPERSED_ACCOMMODATION = "dispersed_accommodation"
    SANCTUARY_SCHEME = "sanctuary_scheme"
    SECOND_STAGE_ACCOMMODATION = "second_stage_accommodation"
    OTHER_EMERGENCY_ACCOMMODATION = "other_emergency_accommodation"


class GenderPolicy(StrEnum):
    WOMEN_ONLY = "women_only"
    MEN_ONLY = "men_only"
    ANY_GENDER = "any_gender"
    LGBTQ_SPECIALIST = "lgbtq_specialist"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    NON_BINARY = "non_binary"


class RiskLevel(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


class AccessFeature(StrEnum):
    STEP_FREE = "step_free"
    WHEELCHAIR = "wheelchair"
    GROUND_FLOOR = "ground_floor"
    ADAPTED_BATHROOM = "adapted_bathroom"


class Support(StrEnum):
    SUBSTANCE_USE = "substance_use"
    MENTAL_HEALTH = "mental_health"
    COMPLEX_NEEDS = "complex_needs"


class Specialism(StrEnum):
    BY_AND_FOR = "by_and_for"
    LGBTQ = "lgbtq"
    DEAF_BSL = "deaf_bsl"
    MALE_VICTIMS = "male_victims"
    OLDER_VICTIMS = "older_victims"
    YOUNG_PEOPLE = "young_people"


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class ProtocolKind(StrEnum):
    GROUP = "group"
    RECIPROCAL = "reciprocal"


class Funding(StrEnum):
    """Who pays for a cross-border placement under a protocol."""

    PLACING_AUTHORITY = "placing_authority"
    RECEIVING_AUTHORITY = "receiving_authority"
    SHARED = "shared"


class PerpetratorCondition(StrEnum):
    DVPN = "dvpn"
    DVPO = "dvpo"
    BAIL = "bail"
    PROBATION = "probation"


class RehousingStatus(StrEnum):
    AVAILABLE = "available"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class ReferralStatus(StrEnum):
    OPEN = "open"
    PLACED = "placed"
    CLOSED = "closed"


class AllocationScope(StrEnum):
    """Whose open referrals an allocation run takes: the caller's authority's, or those of
    every authority in its group (such as Greater Manchester) or region, as a joint panel."""

    AUTHORITY = "authority"
    GROUP = "group"
    REGION = "region"


class OfferStatus(StrEnum):
    LIVE = "live"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class DeclineReason(StrEnum):
    """Fixed list: each feeds the Part 4 report's declined-offers table."""

    RISK_TOO_HIGH = "risk_too_high"
    NEEDS_NOT_MET = "needs_not_met"
    TOO_CLOSE_TO_PERPETRATOR = "too_close_to_perpetrator"
    HOUSEHOLD_DECLINED = "household_declined"
    NO_LONGER_AVAILABLE = "no_longer_available"
    FUNDING_NOT_AGREED = "funding_not_agreed"
    OTHER = "other"


class MoveOnOutcome(StrEnum):
    """Where a household went when a placement ended (for Part 4 outcome reporting)."""

    SETTLED_ACCOMMODATION = "settled_accommodation"
    ANOTHER_SAFE_ACCOMMODATION = "another_safe_accommodation"
    FAMILY_OR_FRIENDS = "family_or_friends"
    RETURNED_HOME_PERPETRATOR_REMOVED = "returned_home_perpetrator_removed"
    RETURNED_TO_PERPETRATOR = "returned_to_perpetrator"
    LEFT_WITHOUT_NOTICE = "left_without_notice"
    OTHER = "other"
