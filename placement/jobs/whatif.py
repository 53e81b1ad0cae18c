"""A what-if as a job: the simulation's world built from the live registry of the
commissioner's area, and `simulation.whatif` run on it.

The world is the area's live units (whatever their status today: in a simulated year each
comes free in its turn), the protocols in force, the rehousing options, and as the mix of
households that arrive, the area's referrals (decrypted here, for the simulation only:
what leaves is counts and times). The run's start date is fixed when the job is asked
for, so the same job gives the same figures whenever and wherever it runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement import audit
from placement.crypto import Cipher
from placement.errors import InvalidInput
from placement.households import unseal
from placement.jobs.kinds import WHAT_IF
from placement.jobs.runners import JobFailed, RunContext
from placement.jobs.service import JobService
from placement.matching import convert
from placement.matching.index import RegistryIndex
from placement.models import Authority, Job, Referral
from placement.reports.area import choose
from placement.security import SYSTEM
from simulation.policies import policy_named
from simulation.whatif import AddUnits, Change, RemoveUnits, what_if
from simulation.world import World, make_world


async def build_world(
    session: AsyncSession,
    cipher: Cipher,
    index: RegistryIndex,
    authorities: frozenset[str],
    start: date,
    weights: optimiser.Weights,
) -> World:
    """The area's registry and household mix as a simulation's world."""
    snapshot = await index.current(session)
    units = tuple(u for _, u in sorted(index.units.items()) if u.authority_code in authorities)
    referrals = await session.scalars(
        select(Referral).where(Referral.authority_code.in_(authorities)).order_by(Referral.id)
    )
    mix = tuple(
        convert.household(r, unseal(cipher, r.details_ciphertext), start) for r in referrals
    )
    if not units:
        raise JobFailed("the area has no units to simulate")
    if not mix:
        raise JobFailed("the area has no referrals to draw the household mix from")
    return make_world(units, snapshot.protocols.protocols, snapshot.rehousing, mix, start, weights)


async def change_from(session: AsyncSession, world: World, change: dict[str, Any]) -> Change:
    """The asked-for change to the registry, as the simulation's."""
    features = frozenset(change["features"])
    if change["action"] == "remove":
        return RemoveUnits(
            change["count"], change["scheme_type"], change["authority_code"], features
        )
    place = await session.get(Authority, change["authority_code"])
    if place is None or place.latitude is None or place.longitude is None:
        raise JobFailed(f"authority {change['authority_code']} has no location to place units")
    like = optimiser.Unit(
        id="what-if",
        scheme_id="what-if",
        provider_id="what-if",
        authority_code=change["authority_code"],
        location=optimiser.Point(place.latitude, place.longitude),
        bedrooms=change["bedrooms"],
        bed_spaces=change["bed_spaces"],
        available_from=world.start,
        scheme_type=change["scheme_type"],
        access_features=features,
        gender_policy=change["gender_policy"],
        accepts_nrpf=change["nrpf"],
    )
    return AddUnits(change["count"], like)


async def prepare(
    session: AsyncSession,
    cipher: Cipher,
    index: RegistryIndex,
    parameters: dict[str, Any],
    weights: optimiser.Weights,
) -> tuple[World, Change]:
    """The world and change a what-if job's parameters name."""
    world = await build_world(
        session,
        cipher,
        index,
        frozenset(parameters["area"]["authorities"]),
        date.fromisoformat(parameters["start"]),
        weights,
    )
    return world, await change_from(session, world, parameters["change"])


async def ask_what_if(jobs: JobService, request: dict[str, Any]) -> Job:
    """Queue a what-if over the asker's area (a commissioner's own; an admin's named),
    its start date fixed today; the changed units must lie in the area."""
    area = await choose(
        jobs.session, jobs.principal, request.pop("authority_code"), request.pop("region")
    )
    if request["change"]["authority_code"] not in area.authorities:
        raise InvalidInput("change.authority_code", f"must be an authority in {area.name}")
    parameters = {
        **request,
        "area": {"kind": area.kind, "code": area.code, "authorities": sorted(area.authorities)},
        "start": date.today().isoformat(),
    }
    return await jobs.create(WHAT_IF, parameters)


async def run_what_if(context: RunContext) -> dict[str, Any]:
    deps, p = context.deps, context.parameters
    async with deps.sessions() as session, session.begin():
        runtime = deps.runtime
        world, change = await prepare(session, runtime.cipher, runtime.index, p, runtime.weights)
        audit.record(session, SYSTEM, "simulate", "job", context.job_id, households=len(world.mix))
    policy = policy_named(p["policy"], p["batch_hours"])
    seeds = range(1, p["seeds"] + 1)
    context.tracker.report(0.0, f"simulating {p['days']} days over {p['seeds']} seed(s)")
    return await anyio.to_thread.run_sync(
        lambda: what_if(world, change, policy, seeds, p["days"], context.tracker.report)
    )
