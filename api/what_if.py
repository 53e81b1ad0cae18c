"""/api/v1/what-if: what a change to the registry or to a protocol would do to an area's
year, as a job.

A commissioner asks for their own area (an admin names one); the answer is 202 with the
job, whose result, when it has run, is the difference between paired simulations of the
area's year with and without the change (see `placement.jobs.whatif`).
"""

from __future__ import annotations

import uuid
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
from placement.enums import AccessFeature, GenderPolicy, Role, SchemeType
from placement.jobs.service import JobService
from placement.jobs.whatif import ask_what_if

AuthorityCode = Annotated[str, Meta(pattern=r"^[EWSN]\d{8}$", description="an ONS code")]


class UnitChange(msgspec.Struct, forbid_unknown_fields=True):
    """Add `count` units like the ones described, or remove `count` units of the type
    (with every listed feature) from the authority."""

    action: Literal["add", "remove"]
    count: Annotated[int, Meta(ge=1, le=200)]
    authority_code: AuthorityCode
    scheme_type: SchemeType = SchemeType.REFUGE
    features: Annotated[
        list[AccessFeature],
        Meta(max_length=len(AccessFeature), description="access features of the units"),
    ] = []
    bedrooms: Annotated[int, Meta(ge=1, le=8)] = 1
    bed_spaces: Annotated[int, Meta(ge=1, le=16)] = 3
    gender_policy: GenderPolicy = GenderPolicy.WOMEN_ONLY
    nrpf: bool = False


class ProtocolChange(msgspec.Struct, forbid_unknown_fields=True):
    """An authority of your area joins a protocol in force that has a member in your area,
    or leaves one it is a member of. (The simulation does not keep protocols' balances,
    so a change of cap would change nothing in it and is not offered.)"""

    action: Literal["join", "leave"]
    protocol_id: Annotated[uuid.UUID, Meta(description="the protocol (`/protocols`' id)")]
    authority_code: AuthorityCode


class WhatIfRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A what-if over your area's year (an admin names the area: an authority, or a
    region or group, or neither for England): give `change` or `protocol`, not both."""

    change: Annotated[UnitChange | None, Meta(description="a change to the registry")] = None
    protocol: Annotated[
        ProtocolChange | None, Meta(description="a change to a protocol's members")
    ] = None
    authority_code: AuthorityCode | None = None
    region: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    policy: Annotated[
        Literal["fcfs", "batch", "batch+perp"],
        Meta(description="how households are placed in the simulated year"),
    ] = "batch"
    days: Annotated[int, Meta(ge=1, le=730, description="days simulated")] = 365
    seeds: Annotated[int, Meta(ge=1, le=10, description="paired years run (seeds 1..K)")] = 3
    batch_hours: Annotated[
        int, Meta(ge=1, le=24 * 28, description="hours between the batch policies' runs")
    ] = 24


class WhatIfController(Controller):
    path = "/what-if"
    tags = ["jobs"]
    guards = [allow(Role.COMMISSIONER, Role.ADMIN)]
    dependencies = {"jobs": provide(JobService), "idempotency": provide_idempotency}

    @post(
        status_code=202,
        summary="Ask what a change to the registry or a protocol would do (a job)",
        responses={404: problem_response(404)},
    )
    async def what_if(
        self,
        jobs: NamedDependency[JobService],
        idempotency: NamedDependency[Idempotency],
        data: JSONBody[WhatIfRequest],
    ) -> Response[JobView]:
        return await answer_with_job(
            jobs, idempotency, lambda: ask_what_if(jobs, msgspec.to_builtins(data))
        )
