"""PostgreSQL: jobs go to `placement worker` processes through procrastinate's queue.

A job's queue entry is written by procrastinate's own SQL function in the transaction
that creates the job row, so a job is queued exactly when its row is committed (never a
row without an entry, nor an entry without its row). The worker's one task runs the row
by id (`placement.jobs.runners`). A worker that dies mid-run stops sending procrastinate
heartbeats; the other workers find its jobs stalled and retry them (`retry_stalled`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from procrastinate import App, PsycopgConnector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from placement.config import Settings

QUEUE = "placement_jobs"
TASK = "placement.run_job"

_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


async def enqueue(session: AsyncSession, job_id: uuid.UUID) -> None:
    """Queue the job for a worker, in the caller's transaction."""
    args = json.dumps({"job_id": str(job_id)})
    await session.execute(_DEFER, {"queue": QUEUE, "task": TASK, "args": args})


def libpq_url(settings: Settings) -> str:
    """The database URL as psycopg takes it (the service's names the asyncpg driver)."""
    return settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def procrastinate_app(settings: Settings) -> App:
    """A procrastinate app on the service's database (its pool is small: one worker runs
    one job at a time and listens for new ones)."""
    connector = PsycopgConnector(conninfo=libpq_url(settings), min_size=1, max_size=4)
    return App(connector=connector)


async def retry_stalled(app: App, settings: Settings) -> int:
    """Put back in the queue the jobs of workers silent for `job_stale_seconds`."""
    stalled: Any = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=settings.job_stale_seconds
    )
    count = 0
    for job in stalled:
        await app.job_manager.retry_job(job)
        count += 1
    return count
