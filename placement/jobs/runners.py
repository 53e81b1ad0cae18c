"""Running one job: claim its row, run its kind's function, heartbeat, finish.

The same code runs a job in the service (SQLite's in-process queue) and on a `placement
worker` (PostgreSQL). While the work runs, the row's heartbeat, progress and message are
written every `job_poll_seconds`, and `cancel_requested` is read back: a cancel asked on
any host reaches the run within one heartbeat. A run whose process dies leaves a stale
heartbeat, and is run again (see `queue` and `worker`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.config import Settings
from placement.jobs.service import CANCELLED, FAILED, FINAL, QUEUED, RUNNING, SUCCEEDED
from placement.models import Job
from placement.roles import Role
from placement.runtime import Runtime
from placement.security import Principal

LOG = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a run when its cancel was asked for."""


class JobFailed(Exception):
    """A run that cannot give a result, in words for the job's `error`."""


@dataclass
class Tracker:
    """Progress a run reports (from any thread) and the cancel the heartbeat brings back."""

    fraction: float = 0.0
    message: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def report(self, fraction: float, message: str | None = None) -> None:
        """Note progress; raises `JobCancelled` once a cancel has been asked for, so a
        long computation stops at its next progress step."""
        if self.cancelled.is_set():
            raise JobCancelled
        self.fraction = min(1.0, max(0.0, fraction))
        if message is not None:
            self.message = message[:200]


@dataclass(frozen=True)
class Deps:
    """What a run needs from the process running it: its sessions and the long-lived
    parts a service shares (the cipher, the read audit, the registry index)."""

    sessions: async_sessionmaker[AsyncSession]
    runtime: Runtime

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


@dataclass(frozen=True)
class RunContext:
    job_id: uuid.UUID
    parameters: dict[str, Any]
    requester: Principal
    """Who asked for the job, with their scope: a run acts for them."""
    deps: Deps
    tracker: Tracker


Runner = Callable[[RunContext], Awaitable[dict[str, Any]]]
RUNNERS: dict[str, Runner] = {}
"""Job kind -> the function that runs it (filled in by `placement.jobs.kinds`)."""


def now() -> datetime:
    return datetime.now(UTC)


async def claim(sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID) -> Job | None:
    """Mark the job running for this attempt; None if it is finished or cancelled (a
    cancelled queued job is finished here)."""
    async with sessions() as session, session.begin():
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.status in FINAL:
            return None
        if job.cancel_requested:
            job.status, job.finished_at = CANCELLED, now()
            return None
        job.status, job.started_at, job.heartbeat_at = RUNNING, now(), now()
        job.attempts += 1
        job.message = None
        return job


Requeue = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]
"""What else a job put back in the queue needs, in the same transaction (a queue entry)."""


async def run_claimed(job: Job, deps: Deps, requeue: Requeue | None = None) -> str:
    """Run a claimed job to its end; returns the status it ended with."""
    tracker = Tracker()
    runner = RUNNERS.get(job.kind)
    context = RunContext(job.id, dict(job.parameters), requester(job), deps, tracker)
    if runner is None:
        await _finish(deps, job.id, FAILED, error=f"no runner for jobs of kind {job.kind!r}")
        return FAILED
    work = asyncio.ensure_future(runner(context))
    try:
        while not work.done():
            await asyncio.wait({work}, timeout=deps.settings.job_poll_seconds)
            if not work.done() and await _heartbeat(deps, job.id, tracker):
                tracker.cancelled.set()
    except asyncio.CancelledError:
        # This process is stopping: the job goes back to the queue, to be run again.
        work.cancel()
        await asyncio.shield(_requeue(deps, job.id, requeue))
        raise
    try:
        result = work.result()
    except JobCancelled:
        await _finish(deps, job.id, CANCELLED)
        return CANCELLED
    except (JobFailed, ValueError) as exc:
        await _finish(deps, job.id, FAILED, error=str(exc))
        return FAILED
    except Exception as exc:  # any crash of a run is the job's failure, logged in full
        LOG.exception("job %s failed", job.id)
        await _finish(deps, job.id, FAILED, error=f"the run failed: {type(exc).__name__}")
        return FAILED
    await _finish(deps, job.id, SUCCEEDED, result=result)
    return SUCCEEDED


def requester(job: Job) -> Principal:
    return Principal(
        key_id=job.requested_by_key_id,
        label=job.requested_by_label,
        role=Role(job.requester_role),
        authority_code=job.scope_authority_code,
        region=job.scope_region,
        user_id=job.requested_by_user_id,
    )


async def _heartbeat(deps: Deps, job_id: uuid.UUID, tracker: Tracker) -> bool:
    """Write progress and the heartbeat; whether a cancel has been asked for."""
    async with deps.sessions() as session, session.begin():
        cancel = await session.scalar(
            update(Job)
            .where(Job.id == job_id)
            .values(heartbeat_at=now(), progress=tracker.fraction, message=tracker.message)
            .returning(Job.cancel_requested)
        )
    return bool(cancel)


async def _finish(
    deps: Deps,
    job_id: uuid.UUID,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": now(), "error": error}
    if status == SUCCEEDED:
        values |= {"result": result, "progress": 1.0}
    async with deps.sessions() as session, session.begin():
        await session.execute(update(Job).where(Job.id == job_id).values(**values))


async def _requeue(deps: Deps, job_id: uuid.UUID, also: Requeue | None) -> None:
    async with deps.sessions() as session, session.begin():
        moved = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == RUNNING)
            .values(status=QUEUED, heartbeat_at=None, message="waiting to run again")
        )
        if also is not None and moved.rowcount:  # type: ignore[attr-defined]
            await also(session, job_id)
