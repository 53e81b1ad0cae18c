"""/api/v1/jobs: long runs (what-ifs, group and region allocations) as resources.

A POST that starts one answers 202 with the job and its URL in `Location`; the job is
read here for its status, progress and, when it has succeeded, its result; and it can be
cancelled. Jobs are persisted: a restart of the service or of a worker loses none.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from msgspec import Meta

from api.auth import EVERYONE
from api.common import provide
from api.idempotency import Idempotency
from placement.idempotency import First
from placement.jobs.service import JobService
from placement.models import IdempotencyRecord, Job

API = "/api/v1"


class JobLinks(msgspec.Struct):
    """Where to read the job and where to cancel it."""

    self: Annotated[str, Meta(description="the job's URL (as `Location` gave it)")]
    cancel: Annotated[str, Meta(description="POST here to cancel the job")]


class JobView(msgspec.Struct):
    """A job: `queued`, `running` (with `progress` from 0 to 1 and a `message`), then
    `succeeded` (with its `result`), `failed` (with its `error`) or `cancelled`."""

    id: uuid.UUID
    kind: Annotated[str, Meta(description="`what_if`, `simulation` or `allocation`")]
    status: Annotated[
        str, Meta(description="`queued`, `running`, `succeeded`, `failed` or `cancelled`")
    ]
    parameters: Annotated[dict[str, Any], Meta(description="what was asked for")]
    progress: Annotated[float, Meta(ge=0, le=1, description="how far the run is, 0 to 1")]
    message: Annotated[str | None, Meta(description="what the run is doing now")]
    result: Annotated[
        dict[str, Any] | None,
        Meta(description="once succeeded: a what-if's figures, a simulation's, or an allocation"),
    ]
    error: Annotated[str | None, Meta(description="once failed: why, in words")]
    attempts: Annotated[int, Meta(description="runs started (a run cut short is run again)")]
    cancel_requested: Annotated[
        bool, Meta(description="a cancel was asked for; a running job stops at its next step")
    ]
    created_at: datetime
    started_at: Annotated[datetime | None, Meta(description="when its latest run started")]
    finished_at: Annotated[datetime | None, Meta(description="when it ended")]
    links: Annotated[JobLinks, Meta(description="the job's own URLs")]


def job_view(job: Job) -> JobView:
    where = f"{API}/jobs/{job.id}"
    return JobView(
        id=job.id,
        kind=job.kind,
        status=job.status,
        parameters=job.parameters,
        progress=job.progress,
        message=job.message,
        result=job.result,
        error=job.error,
        attempts=job.attempts,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links=JobLinks(self=where, cancel=f"{where}/cancel"),
    )


async def answer_with_job(
    jobs: JobService, idempotency: Idempotency, create: Callable[[], Awaitable[Job]]
) -> Response[JobView]:
    """202 with the job `create` queues, naming it in `Location`; a retry with the same
    Idempotency-Key is answered with that first job (replayed), and queues none."""

    async def run() -> First[JobView]:
        job = await create()
        return First(job_view(job), "job", job.id)

    async def again(first: IdempotencyRecord) -> JobView:
        return job_view(await jobs.get(uuid.UUID(first.record_id)))

    idempotency.status_code = 202  # also where the operation's own answer is a 200
    answer = await idempotency.answer(run, again)
    answer.headers["Location"] = answer.content.links.self
    return answer


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]
    guards = [EVERYONE]
    dependencies = {"jobs": provide(JobService)}

    @get("/{job_id:str}", summary="A job's status, progress and result")
    async def get_job(
        self, jobs: NamedDependency[JobService], job_id: FromPath[uuid.UUID]
    ) -> JobView:
        return job_view(await jobs.get(job_id))

    @post("/{job_id:str}/cancel", status_code=200, summary="Cancel a job")
    async def cancel_job(
        self, jobs: NamedDependency[JobService], job_id: FromPath[uuid.UUID]
    ) -> JobView:
        """A queued job is cancelled at once; a running one stops at its next heartbeat
        (`cancel_requested` is true until then); a finished job is left as it is."""
        return job_view(await jobs.cancel(job_id))
