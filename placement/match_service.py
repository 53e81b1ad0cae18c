"""Asking the matcher: options for one household, perpetrator moves, allocation runs.

Each request reads the referral within the officer's scope, turns it into the
optimiser's records, and asks the optimiser against the worker's registry snapshot.
Every match request is audited, as DESIGN.md requires.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement import audit
from placement.enums import AllocationScope, ReferralStatus
from placement.errors import InvalidInput
from placement.matching import (
    FEED_BOUNDS,
    HAS_LINKED,
    RegistryIndex,
    Snapshot,
    household,
    linked_schemes,
)
from placement.models import Referral
from placement.offers import release_expired
from placement.referrals import ReferralService, one_visible

MAX_ALLOCATION_CASES = 5_000
# The referral, the change feed's bounds, and whether the household is linked to another
# through its perpetrator: one round trip for what every match request needs first.
_MATCH_READ = one_visible(*FEED_BOUNDS, HAS_LINKED)


@dataclass(frozen=True, slots=True)
class AllocationRun:
    result: optimiser.AllocationResult
    snapshot: Snapshot
    authority_of: dict[str, str]
    """Each case's referring authority, by referral id."""


class MatchService:
    def __init__(
        self, referrals: ReferralService, index: RegistryIndex, weights: optimiser.Weights
    ) -> None:
        self.referrals = referrals
        self.session: AsyncSession = referrals.session
        self.index = index
        self.weights = weights

    async def options(
        self, referral_id: uuid.UUID, limit: int
    ) -> tuple[optimiser.OptionsResult, Snapshot]:
        referral, latest, oldest, has_linked = await self.referrals.get_row(
            _MATCH_READ, referral_id
        )
        snapshot = await self.index.current(self.session, (latest, oldest))
        linked = await linked_schemes(self.session, referral) if has_linked else frozenset()
        case = household(referral, await self.referrals.household(referral, purpose="match"))
        result = optimiser.options_for_household(
            snapshot.table,
            case,
            snapshot.protocols,
            self.weights,
            date.today(),
            limit,
            linked_schemes=linked,
        )
        return result, snapshot

    async def unit_breaks(
        self, referral: Referral, document: dict[str, Any], unit_id: uuid.UUID
    ) -> list[str]:
        """Why this household may not have this unit (empty when it may)."""
        snapshot = await self.index.current(self.session)
        unit = await self.index.unit(self.session, unit_id)
        if unit is None:
            return [f"no unit {unit_id}"]
        result = optimiser.options_for_household(
            optimiser.UnitTable.from_units([unit]),
            household(referral, document),
            snapshot.protocols,
            self.weights,
            date.today(),
            1,
            linked_schemes=await linked_schemes(self.session, referral),
        )
        if result.feasible:
            return []
        return [miss.explanation for miss in result.nearest_misses] or sorted(result.excluded)

    async def perpetrator(self, referral_id: uuid.UUID) -> optimiser.PerpetratorOptionsResult:
        referral = await self.referrals.get(referral_id)
        snapshot = await self.index.current(self.session)
        case = household(referral, await self.referrals.household(referral, purpose="match"))
        return optimiser.perpetrator_options(case, snapshot.rehousing, self.weights, date.today())

    async def allocate(
        self,
        referral_ids: list[uuid.UUID] | None,
        time_limit_s: float,
        scope: AllocationScope = AllocationScope.AUTHORITY,
    ) -> AllocationRun:
        """Jointly allocate open referrals (the officer's, the listed ones, or a group's or
        region's); proposes only.

        The solver runs in a worker thread, so a long run does not hold up other requests.
        """
        await release_expired(self.session)
        referrals = await self._cases(referral_ids, scope)
        if len(referrals) > MAX_ALLOCATION_CASES:
            field = "referral_ids" if referral_ids is not None else "scope"
            raise InvalidInput(field, f"at most {MAX_ALLOCATION_CASES} cases a run")
        documents = await self.referrals.households(referrals, purpose="allocate")
        cases = tuple(household(r, d) for r, d in zip(referrals, documents, strict=True))
        snapshot = await self.index.current(self.session)
        problem = optimiser.Problem(
            households=cases,
            units=snapshot.table.units,
            protocols=snapshot.protocols,
            rehousing_options=snapshot.rehousing,
            weights=self.weights,
            as_of=date.today(),
        )
        result = await anyio.to_thread.run_sync(lambda: optimiser.allocate(problem, time_limit_s))
        authorities = {case.id: case.authority_code for case in cases}
        audit.record(
            self.session,
            self.referrals.principal,
            "allocate",
            "allocation",
            None,
            scope=str(scope),
            cases=len(cases),
            authorities=sorted(set(authorities.values())),
            status=result.status,
            placed=result.placed,
        )
        return AllocationRun(result, snapshot, authorities)

    async def _cases(
        self, referral_ids: list[uuid.UUID] | None, scope: AllocationScope
    ) -> Sequence[Referral]:
        if scope is not AllocationScope.AUTHORITY:
            if referral_ids is not None:
                raise InvalidInput(
                    "scope", "a group or region run takes every open referral; omit referral_ids"
                )
            return await self.referrals.open_in_area(scope)
        stmt = self.referrals.visible(select(Referral)).where(
            Referral.status == ReferralStatus.OPEN
        )
        if referral_ids is not None:
            stmt = stmt.where(Referral.id.in_(referral_ids))
        referrals = list(await self.session.scalars(stmt.order_by(Referral.id)))
        if referral_ids is not None and len(referrals) != len(set(referral_ids)):
            found = {r.id for r in referrals}
            missing = next(str(i) for i in referral_ids if i not in found)
            raise InvalidInput("referral_ids", f"{missing} is not an open referral of yours")
        return referrals
