"""A what-if as a job: `simulation.whatif` run on the simulation's world built from the
live registry of the commissioner's area (`placement.jobs.world`). The run's start date
is fixed when the job is asked for, so the same job gives the same figures whenever and
wherever it runs. The change is to the registry (units added or removed) or to a
protocol in force (an authority of the area joining or leaving it).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement import audit
from placement.crypto import Cipher
from placement.errors import InvalidInput, NotFound
from placement.jobs.kinds import WHAT_IF
from placement.jobs.runners import JobFailed, RunContext
from placement.jobs.service import JobService
from placement.jobs.world import area_parameters, world_of
from placement.matching.index import RegistryIndex
from placement.matching.loaders import protocols_in_force
from placement.models import Authority, Job, Protocol
from placement.reports.area import Area, choose
from placement.security import SYSTEM
from simulation.policies import policy_named
from simulation.whatif import AddUnits, Change, ChangeProtocol, RemoveUnits, what_if
from simulation.world import World


async def change_from(session: AsyncSession, world: World, parameters: dict[str, Any]) -> Change:
    """The asked-for change to the registry or to a protocol, as the simulation's."""
    protocol = parameters.get("protocol")
    if protocol is not None:
        return ChangeProtocol(
            protocol["protocol_id"], protocol["authority_code"], leave=protocol["action"] == "leave"
        )
    return await _unit_change(session, world, parameters["change"])


async def _unit_change(session: AsyncSession, world: World, change: dict[str, Any]) -> Change:
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
    return world, await change_from(session, world, parameters)


async def ask_what_if(jobs: JobService, request: dict[str, Any]) -> Job:
    """Queue a what-if over the asker's area (a commissioner's own; an admin's named),
    its start date fixed today; the changed units must lie in the area."""
    area = await choose(
        jobs.session, jobs.principal, request.pop("authority_code"), request.pop("region")
    )
    if (request["change"] is None) == (request["protocol"] is None):
        raise InvalidInput("change", "give either a change to the registry or a protocol change")
    field = "change" if request["protocol"] is None else "protocol"
    if request[field]["authority_code"] not in area.authorities:
        raise InvalidInput(f"{field}.authority_code", f"must be an authority in {area.name}")
    parameters = {**request, **area_parameters(area)}
    if request["protocol"] is not None:
        await check_protocol_change(
            jobs.session, area, request["protocol"], date.fromisoformat(parameters["start"])
        )
    return await jobs.create(WHAT_IF, parameters)


async def check_protocol_change(
    session: AsyncSession, area: Area, change: dict[str, Any], today: date
) -> None:
    """The protocol must be one of the area's (a member in it; any other is not found,
    as if it did not exist) and in force on the run's first day, and the authority must
    not be a member already to join it, or must be one to leave it."""
    found = await session.get(Protocol, uuid.UUID(change["protocol_id"]))
    if found is None or not {m.authority_code for m in found.members} & area.authorities:
        raise NotFound("protocol", change["protocol_id"])
    terms = {t.id: t for t in await protocols_in_force(session, today)}.get(str(found.id))
    if terms is None:
        raise InvalidInput("protocol.protocol_id", "must be a protocol in force today")
    member = change["authority_code"] in terms.members
    if change["action"] == "join" and member:
        raise InvalidInput("protocol.authority_code", "is a member already: it cannot join")
    if change["action"] == "leave" and not member:
        raise InvalidInput("protocol.authority_code", "is not a member: it cannot leave")


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
