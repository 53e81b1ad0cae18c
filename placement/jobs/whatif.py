"""A what-if as a job: `simulation.whatif` run on the simulation's world built from the
live registry of the commissioner's area (`placement.jobs.world`). The run's start date
is fixed when the job is asked for, so the same job gives the same figures whenever and
wherever it runs.
"""

from __future__ import annotations

from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement import audit
from placement.crypto import Cipher
from placement.errors import InvalidInput
from placement.jobs.kinds import WHAT_IF
from placement.jobs.runners import JobFailed, RunContext
from placement.jobs.service import JobService
from placement.jobs.world import area_parameters, world_of
from placement.matching.index import RegistryIndex
from placement.models import Authority, Job
from placement.reports.area import choose
from placement.security import SYSTEM
from simulation.policies import policy_named
from simulation.whatif import AddUnits, Change, RemoveUnits, what_if
from simulation.world import World


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
    world = await world_of(session, cipher, index, parameters, weights)
    return world, await change_from(session, world, parameters["change"])


async def ask_what_if(jobs: JobService, request: dict[str, Any]) -> Job:
    """Queue a what-if over the asker's area (a commissioner's own; an admin's named),
    its start date fixed today; the changed units must lie in the area."""
    area = await choose(
        jobs.session, jobs.principal, request.pop("authority_code"), request.pop("region")
    )
    if request["change"]["authority_code"] not in area.authorities:
        raise InvalidInput("change.authority_code", f"must be an authority in {area.name}")
    return await jobs.create(WHAT_IF, {**request, **area_parameters(area)})


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
