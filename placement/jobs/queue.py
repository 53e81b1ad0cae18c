"""The in-process queue of the embedded SQLite default: the service runs jobs itself.

A loop inside the service takes the oldest queued job, or a running one whose heartbeat
is older than `job_stale_seconds` (its process died mid-run), and runs it; one job at a
time. A job is taken with a compare-and-set on its row, so two service processes on one
database never run the same job at once. Stopping the service puts its running job back
in the queue, so a restart loses no job.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.jobs.runners import Deps, claim, now, run_claimed
from placement.jobs.service import QUEUED, RUNNING
from placement.models import Job


async def next_job(
    sessions: async_sessionmaker[AsyncSession], stale_seconds: float
) -> uuid.UUID | None:
    """Take the next job to run (marking it ours by a fresh heartbeat), if there is one."""
    stale = now() - timedelta(seconds=stale_seconds)
    async with sessions() as session, session.begin():
        candidate = await session.scalar(
            select(Job.id)
            .where(
                or_(
                    Job.status == QUEUED,
                    (Job.status == RUNNING)
                    & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale),
                )
            )
            .order_by(Job.created_at)
            .limit(1)
        )
        if candidate is None:
            return None
        taken = await session.execute(
            update(Job)
            .where(
                Job.id == candidate,
                or_(
                    Job.status == QUEUED,
                    or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale),
                ),
            )
            .values(heartbeat_at=now())
        )
        return candidate if taken.rowcount else None  # type: ignore[attr-defined]


async def run_forever(deps: Deps) -> None:
    """Run jobs as they come, until the service stops."""
    while True:
        job_id = await next_job(deps.sessions, deps.settings.job_stale_seconds)
        if job_id is None:
            await asyncio.sleep(deps.settings.job_poll_seconds)
            continue
        job = await claim(deps.sessions, job_id)
        if job is not None:
            await run_claimed(job, deps)
