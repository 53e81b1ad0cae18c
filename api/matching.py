"""Matching over the API: ranked options, perpetrator moves, and allocation runs.

Responses describe units as area and type (postcode district, authority, scheme type),
never an address. Allocation runs propose; booking is done with offers.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from api.referrals import OFFICERS
from placement.crypto import Cipher
from placement.enums import AllocationScope
from placement.match_service import MAX_ALLOCATION_CASES, MatchService
from placement.matching import Snapshot, UnitFacts
from placement.referrals import ReferralService
from placement.security import Principal


class Area(msgspec.Struct):
    scheme_id: str
    scheme_type: str
    authority_code: str
    postcode_district: str


class MatchOption(msgspec.Struct):
    unit_id: str
    score: float
    parts: dict[str, float]
    explanation: str
    area: Area


class Miss(msgspec.Struct):
    unit_id: str
    reasons: list[str]
    explanation: str
    area: Area


class Matches(msgspec.Struct):
    referral_id: uuid.UUID
    checked: int
    feasible: int
    options: list[MatchOption]
    excluded: dict[str, int]
    """Units ruled out, counted under every rule each one breaks."""
    nearest_misses: list[Miss]


class PerpetratorOption(msgspec.Struct):
    option_id: str
    score: float
    parts: dict[str, float]
    explanation: str


class PerpetratorOptions(msgspec.Struct):
    referral_id: uuid.UUID
    checked: int
    options: list[PerpetratorOption]
    excluded: dict[str, int]


class AllocationRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Allocate your authority's open referrals, or just the listed ones, or (as a joint
    panel) every open referral of your authority's group or region."""

    referral_ids: (
        Annotated[list[uuid.UUID], Meta(min_length=1, max_length=MAX_ALLOCATION_CASES)] | None
    ) = None
    scope: Annotated[
        AllocationScope,
        Meta(
            description="`authority` (yours), or `group` or `region`: every open referral of "
            "the authorities in your authority's group or region, allocated jointly. Only "
            "your own cases are shown; other authorities' appear as counts."
        ),
    ] = AllocationScope.AUTHORITY
    time_limit_s: Annotated[float, Meta(ge=1, le=120)] = 20.0


class Proposal(msgspec.Struct):
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


def _area(facts: UnitFacts) -> Area:
    return Area(facts.scheme_id, facts.scheme_type, facts.authority_code, facts.postcode_district)


def matches_view(
    referral_id: uuid.UUID, result: optimiser.OptionsResult, snapshot: Snapshot
) -> Matches:
    return Matches(
        referral_id=referral_id,
        checked=result.checked,
        feasible=result.feasible,
        options=[
            MatchOption(
                o.unit_id, o.score, o.parts, o.explanation, _area(snapshot.facts[o.unit_id])
            )
            for o in result.options
        ],
        excluded=result.excluded,
        nearest_misses=[
            Miss(m.unit_id, list(m.reasons), m.explanation, _area(snapshot.facts[m.unit_id]))
            for m in result.nearest_misses
        ],
    )


def provide_matcher(
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
    cipher: NamedDependency[Cipher],
    state: State,
) -> MatchService:
    referrals = ReferralService(db_session, principal, cipher, state.read_audit)
    return MatchService(referrals, state.registry_index, state.weights)


class MatchController(Controller):
    path = "/referrals/{referral_id:uuid}"
    tags = ["matching"]
    guards = [OFFICERS]
    dependencies = {"matcher": Provide(provide_matcher, sync_to_thread=False)}

    @get("/matches", summary="Ranked units for a referral, and why the others were ruled out")
    async def matches(
        self,
        matcher: NamedDependency[MatchService],
        referral_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="options to return")] = 20,
    ) -> Matches:
        result, snapshot = await matcher.options(referral_id, limit)
        return matches_view(referral_id, result, snapshot)

    @get("/perpetrator-options", summary="Rehousing options for the perpetrator instead")
    async def perpetrator_options(
        self, matcher: NamedDependency[MatchService], referral_id: FromPath[uuid.UUID]
    ) -> PerpetratorOptions:
        result = await matcher.perpetrator(referral_id)
        return PerpetratorOptions(
            referral_id=referral_id,
            checked=result.checked,
            options=[
                PerpetratorOption(o.option_id, o.score, o.parts, o.explanation)
                for o in result.options
            ],
            excluded=result.excluded,
        )


class AllocationController(Controller):
    path = "/allocations"
    tags = ["matching"]
    guards = [OFFICERS]
    dependencies = {"matcher": Provide(provide_matcher, sync_to_thread=False)}

    @post(status_code=200, summary="Propose a joint allocation (books nothing)")
    async def allocate(
        self,
        matcher: NamedDependency[MatchService],
        principal: NamedDependency[Principal],
        data: JSONBody[AllocationRequest],
    ) -> Allocation:
        run = await matcher.allocate(data.referral_ids, data.time_limit_s, data.scope)
        result, mine = run.result, principal.authority_code
        return Allocation(
            scope=data.scope,
            status=result.status,
            cases=len(result.assignments),
            placed=result.placed,
            perpetrator_moves=result.perpetrator_moves,
            weighted_placed=result.weighted_placed,
            weighted_placed_bound=result.weighted_placed_bound,
            objective=result.objective,
            bound=result.bound,
            gap=result.gap,
            seconds=result.seconds,
            engine=result.engine,
            proposals=[
                _proposal(a, run.snapshot)
                for a in result.assignments
                if run.authority_of[a.household_id] == mine
            ],
            partners=_partners(result.assignments, run.authority_of, mine),
        )


def _proposal(a: optimiser.Assignment, snapshot: Snapshot) -> Proposal:
    return Proposal(
        referral_id=a.household_id,
        kind=a.kind,
        unit_id=a.unit_id,
        option_id=a.option_id,
        area=_area(snapshot.facts[a.unit_id]) if a.unit_id else None,
        priority=a.priority,
        score=a.score,
        parts=a.parts,
        explanation=a.explanation,
    )


def _partners(
    assignments: Sequence[optimiser.Assignment], authority_of: dict[str, str], mine: str | None
) -> list[PartnerCases]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in assignments:
        code = authority_of[a.household_id]
        if code != mine:
            counts[code][0] += 1
            counts[code][1] += a.kind == "unit"
            counts[code][2] += a.kind == "perpetrator_move"
    return [PartnerCases(code, *counts[code]) for code in sorted(counts)]
