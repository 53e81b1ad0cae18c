"""The read audit writer, against a real database: batched, and nothing read unrecorded."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.audit import ReadAudit
from placement.config import Settings
from placement.db import create_engine
from placement.enums import Role
from placement.errors import AuditUnavailable
from placement.models import AuditEvent
from placement.security import Principal

READER = Principal(
    key_id=uuid.uuid4(), role=Role.HOUSING_OFFICER, label="reader", authority_code="E08000003"
)


def test_concurrent_reads_are_each_on_record_when_their_call_returns(
    migrated_settings: Settings,
) -> None:
    async def run() -> tuple[int, int]:
        engine = create_engine(migrated_settings)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        reads = ReadAudit(sessions)
        writer = asyncio.create_task(reads.run())
        await asyncio.sleep(0)
        try:
            ids = [uuid.uuid4() for _ in range(40)]
            await asyncio.gather(*(reads.record(READER, "read", "referral", i) for i in ids))
            async with sessions() as session:
                recorded = await session.scalar(
                    select(func.count()).where(AuditEvent.record_id.in_([str(i) for i in ids]))
                )
                actors = await session.scalar(
                    select(func.count(func.distinct(AuditEvent.actor_key_id)))
                )
            return int(recorded or 0), int(actors or 0)
        finally:
            writer.cancel()
            await engine.dispose()

    assert asyncio.run(run()) == (40, 1)


def test_without_its_writer_a_read_is_refused(migrated_settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(migrated_settings)
        try:
            reads = ReadAudit(async_sessionmaker(engine))
            await reads.record(READER, "read", "referral", uuid.uuid4())
        finally:
            await engine.dispose()

    with pytest.raises(AuditUnavailable):
        asyncio.run(run())
