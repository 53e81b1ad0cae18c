"""Matching as officers use it: ranked units, perpetrator moves, joint allocation runs,
and the check of one pair before an offer holds a unit.

Every use reads the worker's registry snapshot (kept current by the change feed) and
audits the household read, as DESIGN.md requires. What leaves this service is what an
officer may be shown: units as area and type, and of other authorities' cases in a
group or region run only counts per authority.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import exc, select

import optimiser
from optimiser.perpetrator import move_rules
from placement import audit
from placement.db import outside_transaction
from placement.enums import AllocationScope, ReferralStatus
from placement.errors import InvalidInput
from placement.faults import unavailable
from placement.holds import release_expired
from placement.households import Household
from placement.matching import convert, snapshots
from placement.matching.index import Snapshot
from placement.matching.keep_apart import load_links
from placement.matching.loaders import CASE_READ, MATCH_READ, linked_schemes
from placement.matching.results import (
    Allocation,
    Matches,
    Miss,
    PartnerCases,
    PerpetratorOption,
    PerpetratorOptions,
    Proposal,
    match_option,
    move_proposal,
    placed_proposal,
    unplaced_proposal,
)
from placement.models import Protocol as ProtocolRecord
from placement.models import Referral
from placement.referrals import ReferralService

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime
    from placement.security import Principal

MAX_ALLOCATION_CASES = 5_000
CONVERTED = convert.Converted()
"""The worker's households as matches last built them (keyed by all they are built from,
so one cache serves every app in the process alike)."""


@dataclass(frozen=True, slots=True)
class Case:
    """A referral read for matching, with the registry snapshot as of that read."""

    referral: Referral
    snapshot: Snapshot
    has_linked: bool
    """Another referral names the same perpetrator (keep-apart may apply)."""


class MatchService:
    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.referrals = ReferralService(session, principal, runtime)
        self.index = runtime.index
        self.weights = runtime.weights
        self.reads = runtime.reads
        self.inline = runtime.inline
        self._outside = False

    async def matches(
        self, referral_id: uuid.UUID, limit: int, *, now: datetime | None = None
    ) -> Matches:
        """Every available unit checked for the household, the feasible ones ranked.

        Read-only, so it runs outside a transaction (the read audit has its own writer):
        one query, outside the session (`read_row`: inline on SQLite), the session used
        only when the index must catch up or the household is linked. `now` decides as of
        that moment, for recording history (`placement seed --history`); the API never
        sets it.
        """
        row = await self.referrals.read_row(MATCH_READ, referral_id)
        referral: convert.ReferralFacts = row
        snapshot = self.index.if_current(row.feed_latest) or await self._caught_up(
            (row.feed_latest, row.feed_oldest)
        )
        linked = (
            await linked_schemes(await self._session_outside(), referral)
            if row.has_linked
            else frozenset()
        )
        household = await self.referrals.household(referral, purpose="match")
        today = now.date() if now else date.today()
        result = optimiser.options_for_household(
            snapshot.table,
            CONVERTED.household(referral, household, today),
            snapshot.protocols,
            self.weights,
            today,
            limit,
            linked_schemes=linked,
            authority_names=snapshot.authority_names,
        )
        self.reads.snapshot(
            snapshots.match_row(
                self.principal,
                referral,
                snapshot,
                self.weights,
                today,
                limit,
                linked,
                result,
                at=now,
            )
        )
        return Matches(
            referral_id=referral_id,
            checked=result.checked,
            feasible=result.feasible,
            options=[match_option(o, snapshot.show(o.unit_id)) for o in result.options],
            excluded=result.excluded,
            nearest_misses=[
                Miss(m.unit_id, list(m.reasons), m.explanation, snapshot.show(m.unit_id).area)
                for m in result.nearest_misses
            ],
        )

    async def case(self, referral_id: uuid.UUID) -> Case:
        """A referral of the caller's authority (404 if not), with the snapshot current as
        of the same round trip."""
        referral, latest, oldest, has_linked = await self.referrals.get_row(CASE_READ, referral_id)
        snapshot = await self.index.current(self.session, (latest, oldest))
        return Case(referral, snapshot, bool(has_linked))

    def live_unit(self, unit_id: uuid.UUID) -> optimiser.Unit | None:
        """A unit that is not retired (whatever its status), as of the last snapshot."""
        return self.index.live_unit(str(unit_id))

    async def rules_broken(
        self, case: Case, household: Household, unit: optimiser.Unit, today: date | None = None
    ) -> tuple[optimiser.Reason, ...]:
        """Why this household may not have this unit (empty: it may), before an offer.

        Rules only, no score and no words, on the case's snapshot; the linked-household
        query runs only when another case names the same perpetrator, as for matches.
        """
        linked = await self._linked(case)
        today = today or date.today()
        return optimiser.rules_broken(
            unit,
            convert.household(case.referral, household, today),
            case.snapshot.protocols,
            today,
            linked_schemes=linked,
        )

    async def move_rules_broken(
        self, referral: Referral, household: Household, option_id: uuid.UUID, today: date
    ) -> tuple[optimiser.Reason, ...] | None:
        """Why this option may not house this household's perpetrator (empty: it may),
        before a perpetrator move holds it; None when the option is not available (the
        registry snapshot holds only available options)."""
        snapshot = await self.index.current(self.session)
        key = str(option_id)
        option = next((o for o in snapshot.rehousing if o.id == key), None)
        if option is None:
            return None
        broken, _ = move_rules(
            convert.household(referral, household, today), [option], self.weights, today
        )
        return tuple(reason for reason, mask in broken if mask[0])

    async def perpetrator_options(
        self, referral_id: uuid.UUID, *, today: date | None = None
    ) -> PerpetratorOptions:
        """Rehousing options for the perpetrator, so the household can stay at home."""
        await outside_transaction(self.session)
        today = today or date.today()
        referral = await self.referrals.get(referral_id)
        snapshot = await self.index.current(self.session)
        case = convert.household(
            referral, await self.referrals.household(referral, purpose="match"), today
        )
        result = optimiser.perpetrator_options(case, snapshot.rehousing, self.weights, today)
        return PerpetratorOptions(
            referral_id=referral_id,
            checked=result.checked,
            options=[
                PerpetratorOption(o.option_id, o.score, o.parts, o.explanation)
                for o in result.options
            ],
            excluded=result.excluded,
        )

    async def allocate(
        self,
        referral_ids: list[uuid.UUID] | None,
        time_limit_s: float,
        scope: AllocationScope = AllocationScope.AUTHORITY,
    ) -> Allocation:
        """Jointly allocate open referrals (the officer's, the listed ones, or a group's or
        region's); proposes only, books nothing.

        The solver runs in a worker thread, so a long run does not hold up other requests.
        Only the caller's own cases leave as proposals; partners' as counts.
        """
        referrals = await self.cases_of_run(referral_ids, scope)
        documents = await self.referrals.households(referrals, purpose="allocate")
        # Only now the run's first write: on SQLite it takes the write lock, which the
        # read audit's own writer (awaited just above) would otherwise wait for in vain.
        await release_expired(self.session)
        today = date.today()
        links = await load_links(self.session)
        cases = tuple(
            convert.household(r, d, today, links) for r, d in zip(referrals, documents, strict=True)
        )
        snapshot = await self.index.current(self.session)
        problem = optimiser.Problem(
            households=cases,
            units=snapshot.table.units,
            protocols=snapshot.protocols.protocols,
            rehousing_options=snapshot.rehousing,
            weights=self.weights,
            as_of=today,
        )
        result = await anyio.to_thread.run_sync(lambda: optimiser.allocate(problem, time_limit_s))
        self.session.add(
            snapshots.allocation_snapshot(
                self.principal, referrals, snapshot, problem, time_limit_s, str(scope), result
            )
        )
        authority_of = {case.id: case.authority_code for case in cases}
        run_id = uuid.uuid4()
        audit.record(
            self.session,
            self.principal,
            "allocate",
            "allocation",
            run_id,
            scope=str(scope),
            cases=len(cases),
            authorities=sorted(set(authority_of.values())),
            status=result.status,
            placed=result.placed,
        )
        mine = self.principal.authority_code
        protocol_names = await self._protocol_names(result.assignments)
        return Allocation(
            run_id=run_id,
            scope=scope,
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
                _proposal(a, snapshot, protocol_names)
                for a in result.assignments
                if authority_of[a.household_id] == mine
            ],
            partners=_partners(result.assignments, authority_of, mine),
        )

    async def _protocol_names(self, assignments: Sequence[optimiser.Assignment]) -> dict[str, str]:
        """Names of the protocols whose caps keep a case out (a query only when one does)."""
        ids = {
            uuid.UUID(cap.protocol_id)
            for a in assignments
            if a.binding is not None
            for cap in a.binding.caps
        }
        if not ids:
            return {}
        rows = await self.session.execute(
            select(ProtocolRecord.id, ProtocolRecord.name).where(ProtocolRecord.id.in_(ids))
        )
        return {str(i): name for i, name in rows.tuples()}

    async def _caught_up(self, bounds: tuple[int | None, int | None]) -> Snapshot:
        """The index brought up to a match's read of the change feed.

        Inline where reads can be (`InlineReads.session`): every match that comes while
        the index catches up waits for it, and through aiosqlite its few reads took a
        median 9 ms of hops under the load test's mix, for well under one of SQLite's.
        A read that would wait goes to the request's session, as does every other
        database.
        """
        quick = self.inline.session()
        if quick is not None:
            async with quick:
                try:
                    return await self.index.current(quick, bounds)
                except exc.OperationalError as error:
                    if not unavailable(error):
                        raise
        return await self.index.current(await self._session_outside(), bounds)

    async def _session_outside(self) -> AsyncSession:
        """The request's session for a match's rarer reads, outside a transaction (set so
        at its first use, which must come before any other statement in it)."""
        if not self._outside:
            await outside_transaction(self.session)
            self._outside = True
        return self.session

    async def _linked(self, case: Case) -> frozenset[str]:
        if not case.has_linked:
            return frozenset()
        return await linked_schemes(self.session, case.referral)

    async def cases_of_run(
        self, referral_ids: list[uuid.UUID] | None, scope: AllocationScope
    ) -> Sequence[Referral]:
        """The open referrals a run would allocate, refused when there are more than one
        run takes (so a queued group or region run is refused when asked, not failed)."""
        referrals = await self._cases(referral_ids, scope)
        if len(referrals) > MAX_ALLOCATION_CASES:
            field = "referral_ids" if referral_ids is not None else "scope"
            raise InvalidInput(field, f"at most {MAX_ALLOCATION_CASES} cases a run")
        return referrals

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


def _proposal(
    a: optimiser.Assignment, snapshot: Snapshot, protocol_names: dict[str, str]
) -> Proposal:
    if a.unit_id is not None:
        return placed_proposal(a, snapshot.show(a.unit_id).area)
    if a.option_id is not None:
        option = next(o for o in snapshot.rehousing if o.id == a.option_id)
        return move_proposal(a, snapshot.authority(option.authority_code))
    return unplaced_proposal(a, snapshot.authority, protocol_names)


def _partners(
    assignments: Sequence[optimiser.Assignment], authority_of: dict[str, str], mine: str | None
) -> list[PartnerCases]:
    """Other authorities' cases, as counts per authority: never which case went where."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in assignments:
        code = authority_of[a.household_id]
        if code != mine:
            counts[code][0] += 1
            counts[code][1] += a.kind == "unit"
            counts[code][2] += a.kind == "perpetrator_move"
    return [PartnerCases(code, *counts[code]) for code in sorted(counts)]
