"""/api/v1/simulations: the placement policies compared over an area's year, as a job.

A commissioner asks for their own area (an admin names one); the answer is 202 with the
job, whose result, when it has run, is `placement simulate --json`'s lines on the area's
live registry and household mix: per policy, households placed, priority-weighted
placements, the ratio to the hindsight bound, the gain on first-come-first-served and
the time to placement of each hard-to-place group (see `placement.jobs.simulation`).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from msgspec import Meta

from api.auth import allow
from api.common import provide
from api.idempotency import Idempotency, provide_idempotency
from api.jobs import JobView, answer_with_job
from api.openapi import problem_response
from api.what_if import AuthorityCode
from placement.enums import Role
from placement.errors import InvalidInput
from placement.jobs.service import JobService
from placement.jobs.simulation import ask_simulation

PolicyName = Literal["fcfs", "batch", "batch+perp"]


class SimulationRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A simulation of your area's year under each policy named (an admin names the
    area: an authority, or a region or group, or neither for England)."""

    policies: Annotated[
        list[PolicyName],
        Meta(
            min_length=1,
            max_length=3,
            description="`fcfs` (each referral takes the best unit on arrival), `batch` "
            "(the service's joint allocation every `batch_hours`), `batch+perp` (with "
            "perpetrator moves)",
        ),
    ] = msgspec.field(default_factory=lambda: ["fcfs", "batch"])
    authority_code: AuthorityCode | None = None
    region: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    days: Annotated[int, Meta(ge=1, le=730, description="days simulated")] = 365
    seeds: Annotated[int, Meta(ge=1, le=10, description="years run (seeds 1..K)")] = 1
    batch_hours: Annotated[
        int, Meta(ge=1, le=24 * 28, description="hours between the batch policies' runs")
    ] = 24
    hindsight: Annotated[
        bool, Meta(description="also compute the hindsight bound each policy is measured by")
    ] = True


class SimulationController(Controller):
    path = "/simulations"
    tags = ["jobs"]
    guards = [allow(Role.COMMISSIONER, Role.ADMIN)]
    dependencies = {"jobs": provide(JobService), "idempotency": provide_idempotency}

    @post(
        status_code=202,
        summary="Compare the placement policies over your area's year (a job)",
        responses={404: problem_response(404)},
    )
    async def simulate(
        self,
        jobs: NamedDependency[JobService],
        idempotency: NamedDependency[Idempotency],
        data: JSONBody[SimulationRequest],
    ) -> Response[JobView]:
        if len(set(data.policies)) != len(data.policies):
            raise InvalidInput("policies", "name each policy once")

        return await answer_with_job(
            jobs, idempotency, lambda: ask_simulation(jobs, msgspec.to_builtins(data))
        )
