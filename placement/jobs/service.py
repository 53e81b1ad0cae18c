"""Creating, reading and cancelling jobs, under the row filter, every access audited.

An admin sees every job. Anyone else sees the jobs of their own scope (the authority or
region their key or account is for) asked for by their role, so a commissioner for one
region never learns of another region's what-ifs (404, as if it did not exist).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.errors import Forbidden, NotFound
from placement.models import Job
from placement.runtime import Runtime
from placement.security import Principal

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
FINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})


class JobService:
    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.runtime = runtime

    async def create(self, kind: str, parameters: dict[str, Any]) -> Job:
        """A queued job in this transaction; on PostgreSQL with workers, its queue entry
        goes in the same transaction, so it is run exactly when the row is committed."""
        job = Job(
            id=uuid.uuid4(),
            kind=kind,
            status=QUEUED,
            requested_by_key_id=self.principal.key_id,
            requested_by_user_id=self.principal.user_id,
            requested_by_label=self.principal.label,
            requester_role=str(self.principal.role),
            scope_authority_code=self.principal.authority_code,
            scope_region=self.principal.region,
            parameters=parameters,
            progress=0.0,
            attempts=0,
            cancel_requested=False,
            created_at=datetime.now(UTC),
        )
        self.session.add(job)
        await self.session.flush()
        if not self.runtime.settings.jobs_in_process:
            from placement.jobs.postgres import enqueue

            await enqueue(self.session, job.id)
        audit.record(self.session, self.principal, "create", "job", job.id, kind=kind)
        return job

    def principal_must_be_officer(self) -> None:
        if not self.principal.is_officer:
            raise Forbidden("only housing officers and integrations allocate")

    async def get(self, job_id: uuid.UUID) -> Job:
        job = await self.session.scalar(self._visible(select(Job)).where(Job.id == job_id))
        if job is None:
            raise NotFound("job", str(job_id))
        audit.record(self.session, self.principal, "read", "job", job.id, status=job.status)
        return job

    async def cancel(self, job_id: uuid.UUID) -> Job:
        """A queued job is cancelled at once; a running one is asked to stop, and stops at
        its next heartbeat; a finished one stays as it is."""
        job = await self.session.scalar(
            self._visible(select(Job)).where(Job.id == job_id).with_for_update()
        )
        if job is None:
            raise NotFound("job", str(job_id))
        if job.status == QUEUED:
            job.status = CANCELLED
            job.finished_at = datetime.now(UTC)
        if job.status not in FINAL:
            job.cancel_requested = True
        audit.record(self.session, self.principal, "cancel", "job", job.id, status=job.status)
        await self.session.flush()
        return job

    def _visible(self, stmt: Select[Any]) -> Select[Any]:
        if self.principal.is_admin:
            return stmt
        return stmt.where(
            Job.requester_role == str(self.principal.role),
            _same(Job.scope_authority_code, self.principal.authority_code),
            _same(Job.scope_region, self.principal.region),
        )


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value
