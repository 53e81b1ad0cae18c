"""A job kind for tests that waits while a file exists, so a test can act on a job it
knows is running (stop its process, cancel it) without relying on timing.

Run as a module it is `placement worker` with this kind registered:
`python -m tests.job_gate` (settings from the environment, as the CLI's).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.audit import ReadAudit
from placement.config import Settings
from placement.crypto import load_cipher
from placement.db import create_engine
from placement.jobs.runners import RUNNERS, RunContext
from placement.jobs.service import JobService
from placement.matching.index import RegistryIndex
from placement.runtime import Runtime
from placement.security import SYSTEM

GATE = "test_gate"


async def wait_at_gate(context: RunContext) -> dict[str, Any]:
    gate = Path(context.parameters["gate"])
    steps = 0
    while gate.exists():
        steps += 1
        context.tracker.report(min(0.5, steps / 1000), "waiting at the gate")
        await asyncio.sleep(0.05)
    context.tracker.report(1.0, "through the gate")
    return {"through": True}


RUNNERS[GATE] = wait_at_gate


def create_gate_job(settings: Settings, gate: Path) -> uuid.UUID:
    """A job (queued as the service would queue it) that waits while `gate` exists."""

    async def create() -> uuid.UUID:
        engine = create_engine(settings, connections=1)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        cipher = load_cipher(settings)
        runtime = Runtime(
            settings=settings,
            cipher=cipher,
            reads=ReadAudit(engine),
            index=RegistryIndex(cipher),
            weights=settings.match_weights(),
        )
        try:
            async with sessions() as session, session.begin():
                job = await JobService(session, SYSTEM, runtime).create(GATE, {"gate": str(gate)})
                return job.id
        finally:
            await engine.dispose()

    return asyncio.run(create())


if __name__ == "__main__":
    from placement.jobs.worker import work

    asyncio.run(work(Settings.from_env()))
