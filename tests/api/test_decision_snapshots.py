"""Every match and allocation leaves a decision snapshot, and a snapshot replays.

Snapshots of matches are written by the read audit's batching writer, after the
response: a test waits for them by putting one more read on record through the same
writer (batches are written in order, so once that read is committed the snapshot
queued before it is too), never by the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

import optimiser
from placement.enums import Role
from placement.matching.replay import Replay, replay
from placement.models import DecisionSnapshot, RegistryChange
from placement.security import Principal
from tests.conftest import API, MANCHESTER, Actors, with_connection
from tests.placing import (
    add_scheme,
    add_unit,
    create_referral,
    db_all,
    matches,
    patch_status,
    settle_reads,
)

T = TypeVar("T")
REPLAYER = Principal(key_id=None, label="replay test", role=Role.ADMIN)


def on_app(actors: Actors, work: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``work`` on the app's own event loop (where its writer and index live)."""
    return actors.client.blocking_portal.call(work, *args)


def snapshots(actors: Actors) -> list[DecisionSnapshot]:
    """Every snapshot in the test's database, oldest first, read straight from it."""
    settle_reads(actors)

    def read(conn: Connection) -> list[DecisionSnapshot]:
        with Session(conn) as session:
            rows = list(session.scalars(select(DecisionSnapshot).order_by(DecisionSnapshot.id)))
            session.expunge_all()
            return rows

    return with_connection(actors.settings.database_url, read)


def feed_position(actors: Actors) -> int:
    [(seq,)] = db_all(actors.settings, select(func.max(RegistryChange.seq)))
    return int(seq)


def replayed(actors: Actors, snapshot_id: int) -> Replay:
    app = actors.client.app

    async def run() -> Replay:
        async with app.state.sessions() as session:
            return await replay(session, app.state.runtime, REPLAYER, snapshot_id)

    return on_app(actors, run)


def test_a_match_records_what_it_was_decided_on_and_what_it_decided(actors: Actors) -> None:
    units = [add_unit(actors, add_scheme(actors, weekly_cost=c)["id"])["id"] for c in (300, 600)]
    add_unit(actors, add_scheme(actors, gender_policy="men_only")["id"])
    referral = create_referral(actors)

    found = matches(actors, referral["id"], limit=5)

    [snapshot] = snapshots(actors)
    assert (snapshot.kind, str(snapshot.referral_id)) == ("match", referral["id"])
    assert snapshot.authority_code == MANCHESTER[0]
    assert snapshot.feed_seq == feed_position(actors)
    assert snapshot.weights == dataclasses.asdict(optimiser.Weights())
    assert snapshot.inputs["limit"] == 5 and snapshot.inputs["linked_schemes"] == []
    [(household_id, document)] = snapshot.inputs["households"]
    assert household_id == referral["id"] and len(document) == 64
    result = snapshot.result
    assert (result["checked"], result["feasible"]) == (3, 2)
    assert result["excluded"] == {"gender_policy": 1}
    assert (
        [unit for unit, _ in result["options"]] == units == [o["unit_id"] for o in found["options"]]
    )
    assert [round(score, 2) for _, score in result["options"]] == [
        o["score"] for o in found["options"]
    ]


def test_a_snapshot_replays_to_the_identical_ranked_result(actors: Actors) -> None:
    for cost in (300, 450, 600):
        add_unit(actors, add_scheme(actors, weekly_cost=cost)["id"])
    referral = create_referral(actors)
    matches(actors, referral["id"])
    [snapshot] = snapshots(actors)

    again = replayed(actors, snapshot.id)

    assert not again.registry_moved and not again.protocols_changed
    assert again.changed_households == ()
    assert again.same and again.replayed == snapshot.result
    assert len(again.replayed["options"]) == 3


def test_a_changed_registry_is_told_apart_by_its_feed_position(actors: Actors) -> None:
    unit = add_unit(actors, add_scheme(actors)["id"])["id"]
    referral = create_referral(actors)
    matches(actors, referral["id"])
    [snapshot] = snapshots(actors)

    patch_status(actors, unit, "out_of_service")
    again = replayed(actors, snapshot.id)

    assert again.registry_moved and again.current_seq > again.recorded_seq
    assert again.replayed is None and not again.same
    assert again.recorded == snapshot.result  # what was decided stays on record


def test_a_rewritten_household_document_is_told_apart(actors: Actors) -> None:
    add_unit(actors, add_scheme(actors)["id"])
    referral = create_referral(actors)
    matches(actors, referral["id"])
    [snapshot] = snapshots(actors)

    response = actors.patch(
        "officer", f"{API}/referrals/{referral['id']}", {"household": {"pets": True}}
    )
    assert response.status_code == 200, response.text
    again = replayed(actors, snapshot.id)

    assert again.changed_households == (referral["id"],)
    assert again.replayed is None and not again.same


def test_an_allocation_records_every_case_and_replays(actors: Actors) -> None:
    unit = add_unit(actors, add_scheme(actors)["id"])["id"]
    first = create_referral(actors)["id"]
    second = create_referral(actors, members=[{"age": 30, "gender": "male"}])["id"]
    response = actors.post("officer", f"{API}/allocations", {"time_limit_s": 10})
    assert response.status_code == 200, response.text

    [snapshot] = [s for s in snapshots(actors) if s.kind == "allocation"]
    assert snapshot.inputs["scope"] == "authority"
    assert [i for i, _ in snapshot.inputs["households"]] == sorted([first, second])
    outcomes = {
        case: (kind, target, binding)
        for case, kind, target, binding in (snapshot.result["assignments"])
    }
    assert outcomes[first] == ("unit", unit, None)
    assert outcomes[second] == ("unplaced", None, "no_suitable_unit")

    again = replayed(actors, snapshot.id)
    assert again.same, (again.recorded, again.replayed)
