"""Expired holds free their units by themselves; the change feed is pruned safely.

`release_expired` and `sweep` run here directly against the test's database (as each
worker's background task runs them), with the API used to set up and to look.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement import housekeeping
from placement.config import Settings
from placement.crypto import load_cipher
from placement.db import create_engine
from placement.holds import release_expired
from placement.housekeeping import prune_change_feed, sweep
from placement.matching.index import RegistryIndex
from placement.models import Offer, RegistryChange
from tests.conftest import API, Actors, app_client
from tests.placing import (
    add_unit,
    audit_for,
    create_referral,
    get_offer,
    make_offer,
    patch_status,
    unit_status,
)

T = TypeVar("T")
SAFETY_SECONDS = 60.0
"""Only so that a broken run ends; a working sweep frees the hold a second after it ends."""


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on the test's database."""

    async def run() -> T:
        engine = create_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            async with sessions() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def sweeps(settings: Settings, workers: int) -> None:
    """`workers` sweeps at the same moment, each with its own engine (as separate workers)."""

    async def run() -> None:
        engines = [create_engine(settings) for _ in range(workers)]
        try:
            await asyncio.gather(
                *(sweep(async_sessionmaker(engine, expire_on_commit=False)) for engine in engines)
            )
        finally:
            for engine in engines:
                await engine.dispose()

    asyncio.run(run())


def offered(actors: Actors, scheme_id: str) -> dict[str, Any]:
    unit = add_unit(actors, scheme_id)
    return make_offer(actors, create_referral(actors)["id"], unit["id"])


def expiry_events(actors: Actors, offer_id: str) -> list[dict[str, Any]]:
    return [e for e in audit_for(actors, "offer", offer_id) if e["action"] == "expire"]


# -- release_expired ---------------------------------------------------------------------


def test_a_hold_past_its_time_is_released(actors: Actors, scheme_a: dict[str, Any]) -> None:
    made = offered(actors, scheme_a["id"])
    later = datetime.now(UTC) + timedelta(hours=4, minutes=1)

    released = in_session(actors.settings, lambda s: release_expired(s, now=later))

    assert released == 1
    assert get_offer(actors, made["id"])["status"] == "expired"
    assert unit_status(actors, made["unit_id"]) == "available"
    [event] = expiry_events(actors, made["id"])
    assert (event["actor_role"], event["actor_label"]) == ("admin", "offer expiry")
    # Releasing again finds nothing, and the unit can be offered afresh.
    assert in_session(actors.settings, lambda s: release_expired(s, now=later)) == 0
    assert make_offer(actors, create_referral(actors)["id"], made["unit_id"])["status"] == "live"
    assert len(expiry_events(actors, made["id"])) == 1


def test_a_hold_within_its_time_is_kept(actors: Actors, scheme_a: dict[str, Any]) -> None:
    made = offered(actors, scheme_a["id"])
    almost = datetime.now(UTC) + timedelta(hours=3, minutes=59)
    assert in_session(actors.settings, lambda s: release_expired(s, now=almost)) == 0
    assert get_offer(actors, made["id"])["status"] == "live"
    assert unit_status(actors, made["unit_id"]) == "held"
    assert expiry_events(actors, made["id"]) == []


def test_releasing_for_one_unit_leaves_the_others(actors: Actors, scheme_a: dict[str, Any]) -> None:
    first, second = offered(actors, scheme_a["id"]), offered(actors, scheme_a["id"])
    later = datetime.now(UTC) + timedelta(hours=5)
    unit_id = uuid.UUID(first["unit_id"])

    released = in_session(actors.settings, lambda s: release_expired(s, unit_id, now=later))

    assert released == 1
    assert [unit_status(actors, o["unit_id"]) for o in (first, second)] == ["available", "held"]
    assert get_offer(actors, second["id"])["status"] == "live"


def test_decided_offers_are_not_expired(actors: Actors, scheme_a: dict[str, Any]) -> None:
    made = offered(actors, scheme_a["id"])
    assert actors.post("officer", f"{API}/offers/{made['id']}/withdraw").status_code == 200
    later = datetime.now(UTC) + timedelta(days=1)
    assert in_session(actors.settings, lambda s: release_expired(s, now=later)) == 0
    assert get_offer(actors, made["id"])["status"] == "withdrawn"


# -- the background sweep ----------------------------------------------------------------


@pytest.fixture
def instant_expiry(actors: Actors) -> Iterator[Actors]:
    """A second app on the same database whose holds expire the moment they are made."""
    settings = dataclasses.replace(actors.settings, offer_hold_hours=0)
    with app_client(settings) as client:
        yield dataclasses.replace(actors, client=client)


def test_the_sweep_frees_units_by_itself(instant_expiry: Actors, scheme_a: dict[str, Any]) -> None:
    made = offered(instant_expiry, scheme_a["id"])
    assert unit_status(instant_expiry, made["unit_id"]) == "held"

    sweeps(instant_expiry.settings, workers=1)

    assert get_offer(instant_expiry, made["id"])["status"] == "expired"
    assert unit_status(instant_expiry, made["unit_id"]) == "available"
    # Free for anyone's matches again.
    referral = create_referral(instant_expiry)
    found = instant_expiry.get("officer", f"{API}/referrals/{referral['id']}/matches").json()
    assert made["unit_id"] in [o["unit_id"] for o in found["options"]]


def test_a_running_service_frees_a_hold_when_it_ends_not_at_the_next_round_sweep(
    actors: Actors, scheme_a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = offered(actors, scheme_a["id"])
    soon = datetime.now(UTC) + timedelta(seconds=1)

    async def end_soon(session: AsyncSession) -> None:
        await session.execute(
            update(Offer).where(Offer.id == uuid.UUID(made["id"])).values(expires_at=soon)
        )

    in_session(actors.settings, end_soon)
    # A worker starting now sweeps at once, sees the hold ending in a second, and sweeps
    # again then. Its round sweep is set an hour away, so only the sweep timed to the
    # hold's end can free the unit; the wait's bound is only there so a broken run ends.
    monkeypatch.setattr(housekeeping, "SWEEP_SECONDS", 3600.0)
    with app_client(actors.settings):
        deadline = time.monotonic() + SAFETY_SECONDS
        while unit_status(actors, made["unit_id"]) == "held" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert unit_status(actors, made["unit_id"]) == "available"
    assert get_offer(actors, made["id"])["status"] == "expired"
    assert datetime.now(UTC) >= soon


def test_the_next_sweep_is_due_when_the_next_hold_ends_or_after_the_interval() -> None:
    now = datetime.now(UTC)
    due = housekeeping.seconds_until_next_sweep
    assert due(None, 30, now) == 30
    assert due(now + timedelta(hours=4), 30, now) == 30
    slack = housekeeping.EXPIRY_SLACK_SECONDS
    assert due(now + timedelta(seconds=10), 30, now) == 10 + slack
    assert due(now - timedelta(seconds=10), 30, now) == slack
    naive = (now + timedelta(seconds=10)).replace(tzinfo=None)
    assert 9 < housekeeping.seconds_until_next_sweep(naive, 30) <= 10.1


def test_sweeps_in_several_workers_at_once_release_each_hold_once(
    instant_expiry: Actors, scheme_a: dict[str, Any]
) -> None:
    made = [offered(instant_expiry, scheme_a["id"]) for _ in range(3)]

    sweeps(instant_expiry.settings, workers=3)

    for one in made:
        assert get_offer(instant_expiry, one["id"])["status"] == "expired"
        assert unit_status(instant_expiry, one["unit_id"]) == "available"
        assert len(expiry_events(instant_expiry, one["id"])) == 1


# -- the change feed ---------------------------------------------------------------------


def test_pruning_the_feed_makes_a_lagging_index_reload_in_full(
    actors: Actors, scheme_a: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that was idle while the feed was pruned past it still sees every change."""
    index = RegistryIndex(load_cipher(actors.settings))
    units = [add_unit(actors, scheme_a["id"])["id"] for _ in range(3)]

    async def unit_ids(session: AsyncSession) -> set[str]:
        """The units the index would match."""
        return set((await index.current(session)).table.ids)

    assert in_session(actors.settings, unit_ids) == set(units)
    for unit_id in units[:2]:
        assert patch_status(actors, unit_id, "out_of_service").status_code == 200
    added = add_unit(actors, scheme_a["id"])["id"]
    monkeypatch.setattr(housekeeping, "CHANGES_KEPT", 1)

    async def prune_and_count(session: AsyncSession) -> int:
        await prune_change_feed(session)
        return int(await session.scalar(select(func.count()).select_from(RegistryChange)) or 0)

    assert in_session(actors.settings, prune_and_count) == 1
    assert in_session(actors.settings, unit_ids) == {units[2], added}
