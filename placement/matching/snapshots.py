"""Decision snapshots: what each match and allocation was decided on, and what it decided.

A snapshot names its inputs rather than copying them: the registry as the change feed's
position (plus a hash of the protocols in force, which also depend on the day), the
weights, the date, and a hash of each household document's stored version. Together
with the records themselves that is enough to re-run the decision (`replay`) while the
registry stands where it stood, and to tell when it no longer does. The result is kept
in full (counts by reason, the ranked units, every case's outcome and what bound it),
so that unmet need can be counted without re-running anything.

Households are identified by a hash of their ciphertext, never their contents: it
changes whenever the document is rewritten (re-encryption under a new key included) and
says nothing about what is in it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import optimiser
from placement.matching.convert import ReferralFacts
from placement.models import DecisionSnapshot, Referral
from placement.security import Principal

if TYPE_CHECKING:  # the index reads referrals, whose closing reads snapshots
    from placement.matching.index import Snapshot

MATCH = "match"
ALLOCATION = "allocation"


def document_hash(referral: ReferralFacts) -> str:
    """Identifies the stored version of a household document, not its contents."""
    return _ciphertext_hash(bytes(referral.details_ciphertext))


@lru_cache(maxsize=4096)
def _ciphertext_hash(ciphertext: bytes) -> str:
    """Remembered for the worker's recent documents: every match hashes its household's,
    the same few thousand over and over (a cache hit hashes the bytes once, cheaply)."""
    return hashlib.sha256(ciphertext).hexdigest()


@cache
def weights_record(weights: optimiser.Weights) -> dict[str, float]:
    """The weights as stored (one dict per configuration, built once; never mutated)."""
    return dataclasses.asdict(weights)


def match_result(result: optimiser.OptionsResult) -> dict[str, Any]:
    """What a match decided, as stored and as a replay compares it."""
    return {
        "checked": result.checked,
        "feasible": result.feasible,
        "excluded": result.excluded,
        "options": [[o.unit_id, o.score] for o in result.options],
        "nearest_misses": [m.unit_id for m in result.nearest_misses],
    }


def allocation_result(result: optimiser.AllocationResult) -> dict[str, Any]:
    """What an allocation decided: every case's outcome and, if unplaced, what bound it."""
    return {
        "status": result.status,
        "placed": result.placed,
        "weighted_placed": result.weighted_placed,
        "assignments": [
            [
                a.household_id,
                a.kind,
                a.unit_id or a.option_id,
                a.binding.kind if a.binding is not None else None,
            ]
            for a in result.assignments
        ],
    }


def match_row(
    principal: Principal,
    referral: ReferralFacts,
    registry: Snapshot,
    weights: optimiser.Weights,
    as_of: date,
    limit: int,
    linked_schemes: frozenset[str],
    result: optimiser.OptionsResult,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A match's snapshot as a row for the read audit's batch (`ReadAudit.snapshot`);
    `at` only when recording history."""
    return {
        "at": at or datetime.now(UTC),
        "kind": MATCH,
        "actor_key_id": principal.key_id,
        "authority_code": principal.authority_code,
        "referral_id": referral.id,
        "feed_seq": registry.seq,
        "as_of": as_of,
        "weights": weights_record(weights),
        "inputs": {
            "limit": limit,
            "linked_schemes": sorted(linked_schemes),
            "households": [[str(referral.id), document_hash(referral)]],
            "protocols": registry.protocols_digest,
        },
        "result": match_result(result),
    }


def allocation_snapshot(
    principal: Principal,
    referrals: Sequence[Referral],
    registry: Snapshot,
    problem: optimiser.Problem,
    time_limit_s: float,
    scope: str,
    result: optimiser.AllocationResult,
) -> DecisionSnapshot:
    """An allocation's snapshot, written in the run's own transaction with its audit
    event. It holds every case of the run, partners' included: it is a record for
    replay and reports, never shown to an officer."""
    return DecisionSnapshot(
        at=datetime.now(UTC),
        kind=ALLOCATION,
        actor_key_id=principal.key_id,
        authority_code=principal.authority_code,
        referral_id=None,
        feed_seq=registry.seq,
        as_of=problem.as_of,
        weights=weights_record(problem.weights),
        inputs={
            "scope": scope,
            "time_limit_s": time_limit_s,
            "engine": result.engine,
            "households": [[str(r.id), document_hash(r)] for r in referrals],
            "protocols": registry.protocols_digest,
            "keep_apart": {
                h.id: h.perpetrator_ref for h in problem.households if h.perpetrator_ref
            },
        },
        result=allocation_result(result),
    )


def households(snapshot: DecisionSnapshot) -> list[tuple[uuid.UUID, str]]:
    """The households a snapshot decided on, with their documents' hashes, in the order
    they were decided (a list, not an object: JSONB does not keep keys in order)."""
    return [(uuid.UUID(key), hashed) for key, hashed in snapshot.inputs["households"]]
