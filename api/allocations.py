"""/api/v1/allocations: a joint allocation run over many open referrals; proposes only.

Booking is done with offers. An authority's run answers at once (200); a group's or
region's is a long run, answered 202 with a job (`api.jobs`) whose result is the
allocation. In a group or region run the result holds the caller's own cases and, of
partners' cases, only counts per authority (decided in `placement.matching.service`).
A run sent with an Idempotency-Key is not run again on a retry: the first run's
proposals (or its job) are kept with the key and returned (`api.idempotency`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from msgspec import Meta

from api.auth import OFFICERS
from api.common import provide
from api.idempotency import Idempotency, provide_idempotency
from api.jobs import JobView, answer_with_job
from placement.enums import AllocationScope
from placement.errors import InvalidInput
from placement.idempotency import First
from placement.jobs.allocation import ask_allocation
from placement.jobs.service import JobService
from placement.matching.results import Allocation
from placement.matching.service import MAX_ALLOCATION_CASES, MatchService
from placement.models import IdempotencyRecord


class AllocationRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Allocate your authority's open referrals, or just the listed ones, or (as a joint
    panel) every open referral of your authority's group or region."""

    referral_ids: (
        Annotated[list[uuid.UUID], Meta(min_length=1, max_length=MAX_ALLOCATION_CASES)] | None
    ) = None
    scope: Annotated[
        AllocationScope,
        Meta(
            description="`authority` (yours), or `group` or `region`: every open referral of "
            "the authorities in your authority's group or region, allocated jointly. Only "
            "your own cases are shown; other authorities' appear as counts."
        ),
    ] = AllocationScope.AUTHORITY
    time_limit_s: Annotated[float, Meta(ge=1, le=120)] = 20.0


class AllocationController(Controller):
    path = "/allocations"
    tags = ["matching"]
    guards = [OFFICERS]
    dependencies = {
        "matcher": provide(MatchService),
        "jobs": provide(JobService),
        "idempotency": provide_idempotency,
    }

    @post(
        status_code=200,
        summary="Propose a joint allocation (books nothing)",
        responses={
            202: ResponseSpec(
                data_container=JobView,
                description="a group or region run, queued as a job (`Location` names it)",
            )
        },
    )
    async def allocate(
        self,
        matcher: NamedDependency[MatchService],
        jobs: NamedDependency[JobService],
        idempotency: NamedDependency[Idempotency],
        data: JSONBody[AllocationRequest],
    ) -> Response[Allocation] | Response[JobView]:
        if data.scope is not AllocationScope.AUTHORITY:
            return await _as_job(jobs, idempotency, data)

        async def run() -> First[Allocation]:
            result = await matcher.allocate(data.referral_ids, data.time_limit_s, data.scope)
            return First(result, "allocation", result.run_id, msgspec.to_builtins(result))

        async def again(first: IdempotencyRecord) -> Allocation:
            return msgspec.convert(first.response, Allocation)

        return await idempotency.answer(run, again)


async def _as_job(
    jobs: JobService, idempotency: Idempotency, data: AllocationRequest
) -> Response[JobView]:
    """A group's or region's run, queued as a job acting for the caller."""
    if data.referral_ids is not None:
        raise InvalidInput(
            "scope", "a group or region run takes every open referral; omit referral_ids"
        )
    return await answer_with_job(
        jobs, idempotency, lambda: ask_allocation(jobs, data.scope, data.time_limit_s)
    )
