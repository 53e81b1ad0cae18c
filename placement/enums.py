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
    "LinkStatus",
    "MoveOnOutcome",
    "OfferStatus",
    "OutOfServiceReason",
    "PerpetratorCondition",
    "ProtocolKind",
    "ReferralStatus",
    "RehousingStatus",
    "RiskLevel",
    "Role",
    "SchemeType",
    "SpaceNeed",
    "Specialism",
    "Support",
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


class LinkStatus(StrEnum):
    """Where a link between two authorities' perpetrator references stands: proposed by
    one, confirmed by the other (only then does it keep households apart), or withdrawn."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


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


class MoveOnOutcome(StrEnum):
    """Where a household went when a placement ended (for Part 4 outcome reporting)."""

    SETTLED_ACCOMMODATION = "settled_accommodation"
    ANOTHER_SAFE_ACCOMMODATION = "another_safe_accommodation"
    FAMILY_OR_FRIENDS = "family_or_friends"
    RETURNED_HOME_PERPETRATOR_REMOVED = "returned_home_perpetrator_removed"
    RETURNED_TO_PERPETRATOR = "returned_to_perpetrator"
    LEFT_WITHOUT_NOTICE = "left_without_notice"
    OTHER = "other"
