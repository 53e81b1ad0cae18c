"""What matching answers, as officers are shown it: units as area and type, never an
address, and other authorities' cases only as counts.

These are the records the API returns as they are (and the pages render), so that what
may be shown is decided here, in the domain, once.
"""

from __future__ import annotations

import uuid

import msgspec

from placement.enums import AllocationScope


class Area(msgspec.Struct):
    """Where a unit is, as far as an officer may know before an offer is accepted."""

    scheme_id: str
    scheme_type: str
    authority_code: str
    postcode_district: str


class MatchOption(msgspec.Struct):
    """A unit the household could have: its score, the score's parts and why."""

    unit_id: str
    score: float
    parts: dict[str, float]
    explanation: str
    area: Area


class Miss(msgspec.Struct):
    """A unit that came close, and the rules that ruled it out."""

    unit_id: str
    reasons: list[str]
    explanation: str
    area: Area


class Matches(msgspec.Struct):
    """Every available unit checked for a referral: the feasible ones ranked, the rest
    counted by reason."""

    referral_id: uuid.UUID
    checked: int
    feasible: int
    options: list[MatchOption]
    excluded: dict[str, int]
    """Units ruled out, counted under every rule each one breaks."""
    nearest_misses: list[Miss]


class PerpetratorOption(msgspec.Struct):
    """A rehousing option for the perpetrator, far enough from the household's places."""

    option_id: str
    score: float
    parts: dict[str, float]
    explanation: str


class PerpetratorOptions(msgspec.Struct):
    """Rehousing options for the perpetrator instead, ranked, the rest counted by reason."""

    referral_id: uuid.UUID
    checked: int
    options: list[PerpetratorOption]
    excluded: dict[str, int]


class Proposal(msgspec.Struct):
    """What a joint allocation proposes for one case: a unit, a perpetrator move, or
    nothing."""

    referral_id: str
    kind: str
    """`unit` (the household moves), `perpetrator_move`, or `unplaced`."""
    unit_id: str | None
    option_id: str | None
    area: Area | None
    priority: float
    score: float
    parts: dict[str, float]
    explanation: str


class PartnerCases(msgspec.Struct):
    """Another authority's cases in a group or region run: counts, never the cases."""

    authority_code: str
    cases: int
    placed: int
    perpetrator_moves: int


class Allocation(msgspec.Struct):
    """A joint allocation run: what it proposes for your cases and how good the solution
    is; it books nothing."""

    run_id: uuid.UUID
    """The run's own id: its audit event's, and what a retry of the same request returns."""
    scope: AllocationScope
    status: str
    """`optimal`, or `feasible` (the best found within the time limit)."""
    cases: int
    placed: int
    perpetrator_moves: int
    weighted_placed: float
    weighted_placed_bound: float
    objective: int
    bound: int
    gap: float
    seconds: float
    engine: str
    proposals: list[Proposal]
    """Your authority's cases only."""
    partners: list[PartnerCases]
    """Other authorities' cases in the run (a group or region run), as counts."""
