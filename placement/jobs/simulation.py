"""A simulation as a job: policies compared over the commissioner's area's year
(`simulation.compare`, what `placement simulate` prints, one summary per policy), on the
world built from the area's live registry (`placement.jobs.world`)."""

from __future__ import annotations

from typing import Any

import anyio

from placement import audit
from placement.jobs.kinds import SIMULATION
from placement.jobs.runners import RunContext
from placement.jobs.service import JobService
from placement.jobs.world import area_parameters, world_of
from placement.models import Job
from placement.reports.area import choose
from placement.security import SYSTEM
from simulation.compare import compare
from simulation.policies import policy_named


async def ask_simulation(jobs: JobService, request: dict[str, Any]) -> Job:
    """Queue a simulation of the asker's area (a commissioner's own; an admin's named),
    its start date fixed today."""
    area = await choose(
        jobs.session, jobs.principal, request.pop("authority_code"), request.pop("region")
    )
    return await jobs.create(SIMULATION, {**request, **area_parameters(area)})


async def run_simulation(context: RunContext) -> dict[str, Any]:
    deps, p = context.deps, context.parameters
    async with deps.sessions() as session, session.begin():
        runtime = deps.runtime
        world = await world_of(session, runtime.cipher, runtime.index, p, runtime.weights)
        audit.record(session, SYSTEM, "simulate", "job", context.job_id, households=len(world.mix))
    policies = [policy_named(name, p["batch_hours"]) for name in p["policies"]]
    seeds = range(1, p["seeds"] + 1)
    context.tracker.report(0.0, f"simulating {p['days']} days over {p['seeds']} seed(s)")
    rows = await anyio.to_thread.run_sync(
        lambda: compare(
            world,
            policies,
            seeds,
            p["days"],
            hindsight=p["hindsight"],
            progress=context.tracker.report,
        )
    )
    return {"days": p["days"], "seeds": p["seeds"], "policies": rows}
