"""Replaying a past match or allocation from its decision snapshot.

The change feed records which registry rows changed, not what they were, so the registry
as it stood at an older feed position cannot be rebuilt from the records. A replay
therefore re-runs a decision only while the registry stands where it stood (the same
feed position, and the same protocols in force with the same balances, which also move
with the date) and every household document is the version decided on; otherwise it
says what moved and re-runs nothing. What the snapshot stores itself (weights, date,
limit, linked schemes, the keep-apart keys, the time limit and engine) is taken from it,
not from today's configuration or links.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import select

import optimiser
from placement.errors import NotFound
from placement.households import unseal
from placement.matching import convert
from placement.matching.index import Snapshot
from placement.matching.loaders import FEED_BOUNDS_ONLY
from placement.matching.snapshots import (
    MATCH,
    allocation_result,
    document_hash,
    households,
    match_result,
)
from placement.models import DecisionSnapshot, Referral

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime
    from placement.security import Principal


@dataclass(frozen=True, slots=True)
class Replay:
    snapshot_id: int
    kind: str
    recorded_seq: int
    """The change feed's position the decision was made at."""
    current_seq: int
    protocols_changed: bool
    """The protocols in force, or their balances, differ from the decision's."""
    changed_households: tuple[str, ...]
    """Referrals whose household document is no longer the version decided on."""
    recorded: dict[str, Any]
    replayed: dict[str, Any] | None
    """The decision re-run, or None when its inputs can no longer be had."""

    @property
    def registry_moved(self) -> bool:
        return self.current_seq != self.recorded_seq

    @property
    def same(self) -> bool:
        """Re-run, and decided exactly as recorded (ranked units and scores, or outcomes)."""
        return self.replayed is not None and self.replayed == self.recorded


async def replay(
    session: AsyncSession, runtime: Runtime, principal: Principal, snapshot_id: int
) -> Replay:
    """Re-run snapshot ``snapshot_id`` against the registry and records as they are now.

    Every household document it decrypts is an audited read (purpose ``replay``).
    """
    snapshot = await session.get(DecisionSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound("decision snapshot", snapshot_id)
    latest, oldest = (await session.execute(FEED_BOUNDS_ONLY)).one()
    registry = await runtime.index.current(session, (latest, oldest))
    decided = households(snapshot)
    found = {
        r.id: r
        for r in await session.scalars(
            select(Referral).where(Referral.id.in_([i for i, _ in decided]))
        )
    }
    changed = tuple(
        str(i) for i, hashed in decided if i not in found or document_hash(found[i]) != hashed
    )
    outcome = Replay(
        snapshot_id=snapshot.id,
        kind=snapshot.kind,
        recorded_seq=snapshot.feed_seq,
        current_seq=registry.seq,
        protocols_changed=registry.protocols_digest != snapshot.inputs["protocols"],
        changed_households=changed,
        recorded=snapshot.result,
        replayed=None,
    )
    if outcome.registry_moved or outcome.protocols_changed or changed:
        return outcome
    referrals = [found[i] for i, _ in decided]
    for r in referrals:
        await runtime.reads.record(principal, "replay", "referral", r.id)
    cases = tuple(
        convert.household(r, unseal(runtime.cipher, r.details_ciphertext), snapshot.as_of)
        for r in referrals
    )
    weights = optimiser.Weights(**snapshot.weights)
    if snapshot.kind == MATCH:
        result = _match(snapshot, registry, cases[0], weights)
    else:
        result = await _allocation(snapshot, registry, cases, weights)
    return dataclasses.replace(outcome, replayed=result)


def _match(
    snapshot: DecisionSnapshot,
    registry: Snapshot,
    case: optimiser.Household,
    weights: optimiser.Weights,
) -> dict[str, Any]:
    return match_result(
        optimiser.options_for_household(
            registry.table,
            case,
            registry.protocols,
            weights,
            snapshot.as_of,
            snapshot.inputs["limit"],
            linked_schemes=frozenset(snapshot.inputs["linked_schemes"]),
        )
    )


async def _allocation(
    snapshot: DecisionSnapshot,
    registry: Snapshot,
    cases: tuple[optimiser.Household, ...],
    weights: optimiser.Weights,
) -> dict[str, Any]:
    recorded = snapshot.inputs.get("keep_apart")
    if recorded is not None:
        # The perpetrator links as they stood, not as they stand: links come and go.
        cases = tuple(dataclasses.replace(c, perpetrator_ref=recorded.get(c.id)) for c in cases)
    problem = optimiser.Problem(
        households=cases,
        units=registry.table.units,
        protocols=registry.protocols.protocols,
        rehousing_options=registry.rehousing,
        weights=weights,
        as_of=snapshot.as_of,
    )
    inputs = snapshot.inputs
    result = await anyio.to_thread.run_sync(
        lambda: optimiser.allocate(problem, inputs["time_limit_s"], engine=inputs["engine"])
    )
    return allocation_result(result)
