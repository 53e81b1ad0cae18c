"""The fixed vocabularies of the domain, as they appear on the wire and in the database.

Values are snake_case strings. The vocabularies the matcher reads too (who a scheme
takes, risk, access, support, specialisms, scheme types, perpetrator conditions, space
needs) are the optimiser's own, re-exported here: the optimiser imports nothing of ours,
so they are defined there, once. Roles are `placement.roles`' (re-exported too), so the
command line can name them without loading the matcher.
"""

from __future__ import annotations

from enum import StrEnum

from optimiser.enums import (
    AccessFeature,
    Gender,
    GenderPolicy,
    PerpetratorCondition,
    RiskLevel,
    SchemeType,
    SpaceNeed,
    Specialism,
    Support,
)
from placement.roles import OFFICER_ROLES, Role

__all__ = [
    "OFFICER_ROLES",
    "AccessFeature",
    "AllocationScope",
    "DeclineReason",
    "Funding",
    "Gender",
    "GenderPolicy",
    "MoveOutReason",
    "OfferStatus",
    "OutOfServiceReason",
    "PerpetratorCondition",
    "PerpetratorMoveStatus",
    "ProtocolKind",
    "ReferralOutcome",
    "ReferralStatus",
    "RehousingStatus",
    "RiskLevel",
    "Role",
    "SchemeType",
    "SpaceNeed",
    "Specialism",
    "Support",
    "UnableReason",
    "UnitStatus",
]


class UnitStatus(StrEnum):
    """Where a unit is in its cycle: available, held by an offer, occupied, or out of
    service."""

    AVAILABLE = "available"
    HELD = "held"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class OutOfServiceReason(StrEnum):
    """Why a provider has taken a unit out of service (fixed list, for occupancy reports)."""

    REPAIRS = "repairs"
    DECORATION = "decoration"
    STAFFING = "staffing"
    SAFETY_CONCERN = "safety_concern"
    COMPROMISED_LOCATION = "compromised_location"
    OTHER = "other"


class ProtocolKind(StrEnum):
    """A group protocol among several authorities, or a reciprocal one between two."""

    GROUP = "group"
    RECIPROCAL = "reciprocal"


class Funding(StrEnum):
    """Who pays for a cross-border placement under a protocol."""

    PLACING_AUTHORITY = "placing_authority"
    RECEIVING_AUTHORITY = "receiving_authority"
    SHARED = "shared"


class RehousingStatus(StrEnum):
    """Whether a rehousing option can take someone."""

    AVAILABLE = "available"
    OCCUPIED = "occupied"
    OUT_OF_SERVICE = "out_of_service"


class ReferralStatus(StrEnum):
    """Open (being matched), placed, or closed."""

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
    """Where an offer stands."""

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


class MoveOutReason(StrEnum):
    """Why support in a placement ended: the Part 4 return's reasons support stopped.

    Replaces the earlier free list of where a household went (migration 0009 maps its
    values: settled accommodation to `settled_social`, a return home with the
    perpetrator removed to `no_longer_needed`, family or friends to `other`).
    """

    NO_LONGER_NEEDED = "no_longer_needed"
    SETTLED_SOCIAL = "settled_social"
    """Moved to settled social housing (council or housing association)."""
    SETTLED_PRIVATE = "settled_private"
    """Moved to settled private rented or owned accommodation."""
    OTHER_SAFE_ACCOMMODATION = "other_safe_accommodation"
    RETURNED_TO_PERPETRATOR = "returned_to_perpetrator"
    EVICTED_OR_ASKED_TO_LEAVE = "evicted_or_asked_to_leave"
    LEFT_WITHOUT_NOTICE = "left_without_notice"
    OTHER = "other"


class ReferralOutcome(StrEnum):
    """How a referral ended, for the Part 4 return: placed (the accommodation type is the
    placement's scheme type), the perpetrator moved instead, or unable to be supported."""

    PLACED = "placed"
    PERPETRATOR_MOVED = "perpetrator_moved"
    UNABLE_TO_SUPPORT = "unable_to_support"


class UnableReason(StrEnum):
    """Why a household could not be supported (fixed list: the unmet-need table)."""

    NO_SPACE = "no_space"
    NEEDS_NOT_MET = "needs_not_met"
    """No unit met the household's needs: the matcher's reason codes are kept with it."""
    RISK_TOO_HIGH = "risk_too_high"
    INELIGIBLE = "ineligible"
    DECLINED_OR_WITHDREW = "declined_or_withdrew"
    NOT_CONTACTABLE = "not_contactable"
    OTHER = "other"


class PerpetratorMoveStatus(StrEnum):
    """A perpetrator move booked like a placement: the rehousing option is held for the
    referral, then accepted (the perpetrator moved in) or withdrawn, and later ended."""

    HELD = "held"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"
