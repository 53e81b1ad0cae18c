"""`placement worker`: runs jobs from procrastinate's PostgreSQL queue, on any host that
reaches the database.

Each worker runs one job at a time, sends procrastinate's heartbeat every poll interval,
and looks every poll interval for jobs of workers silent for `job_stale_seconds`
(killed, or their host gone), putting them back in the queue; a job so retried is run
again from its start.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress

from procrastinate import App
from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.audit import ReadAudit
from placement.config import Settings
from placement.crypto import load_cipher
from placement.db import create_engine
from placement.jobs import kinds
from placement.jobs.postgres import QUEUE, TASK, enqueue, procrastinate_app, retry_stalled
from placement.jobs.runners import Deps, claim, run_claimed
from placement.matching.index import RegistryIndex
from placement.runtime import Runtime


def worker_deps(settings: Settings) -> Deps:
    """A worker's own sessions and long-lived parts, as a service process has them."""
    kinds.register()
    cipher = load_cipher(settings)
    engine = create_engine(settings, connections=2)
    audit_engine = create_engine(settings, connections=1)
    return Deps(
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        runtime=Runtime(
            settings=settings,
            cipher=cipher,
            reads=ReadAudit(audit_engine, settings.database_timeouts.sqlite_busy),
            index=RegistryIndex(cipher, settings.self_contained_types()),
            weights=settings.match_weights(),
        ),
    )


def with_task(app: App, deps: Deps) -> App:
    """Register the one task: run the job row named by id."""

    async def run_job(job_id: str) -> None:
        job = await claim(deps.sessions, uuid.UUID(job_id))
        if job is not None:
            await run_claimed(job, deps, requeue=enqueue)

    app.task(name=TASK, queue=QUEUE)(run_job)
    return app


async def _retry_stalled_forever(app: App, settings: Settings) -> None:
    while True:
        await retry_stalled(app, settings)
        await asyncio.sleep(settings.job_poll_seconds)


async def work(settings: Settings, name: str = "placement-worker") -> None:
    """Run jobs until stopped (SIGINT or SIGTERM end the current job's wait and stop)."""
    if settings.is_sqlite:
        raise SystemExit(
            "placement worker needs PostgreSQL; on SQLite the service runs jobs itself"
        )
    deps = worker_deps(settings)
    app = with_task(procrastinate_app(settings), deps)
    async with app.open_async():
        sweeper = asyncio.create_task(_retry_stalled_forever(app, settings))
        reads = asyncio.create_task(deps.runtime.reads.run())
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name=name,
                concurrency=1,
                fetch_job_polling_interval=settings.job_poll_seconds,
                abort_job_polling_interval=settings.job_poll_seconds,
                update_heartbeat_interval=max(0.1, settings.job_stale_seconds / 4),
                stalled_worker_timeout=settings.job_stale_seconds,
                shutdown_graceful_timeout=settings.job_poll_seconds * 5,
            )
        finally:
            for task in (sweeper, reads):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await deps.sessions.kw["bind"].dispose()
