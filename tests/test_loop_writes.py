"""`placement.loop_writes`: a SQLite transaction on the event loop's thread that never
makes the loop wait. While another writer has the file (through the service's write lock,
or SQLite's own lock from outside the service), the loop goes on with other work and the
transaction commits once the file is free; past the busy timeout it fails with nothing
written. Each check is an outcome (rows, ticks of another task), not a clock."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text

from placement.audit import ReadAudit
from placement.config import Settings
from placement.db import create_engine, sqlite_file
from placement.enums import Role
from placement.loop_writes import LoopWriter
from placement.models import AuditEvent
from placement.security import Principal
from placement.write_lock import WriteLock, lock_path

READER = Principal(
    key_id=uuid.uuid4(), role=Role.HOUSING_OFFICER, label="reader", authority_code="E08000003"
)


def table_on(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")


def rows(database: Path) -> list[int]:
    with sqlite3.connect(database) as connection:
        return [x for (x,) in connection.execute("SELECT x FROM t ORDER BY x")]


def insert(value: int) -> Callable[[Connection], None]:
    def work(connection: Connection) -> None:
        connection.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": value})

    return work


async def ticking_while(job: asyncio.Task[None], let_go: Callable[[], object]) -> int:
    """Ticks of a task beside `job` until `job` is done: how often the loop ran others."""
    ticks = 0
    while not job.done():
        await asyncio.sleep(0.001)
        ticks += 1
        if ticks == 20:
            let_go()
    await job
    return ticks


def commit_while_held(
    database: Path, work: Callable[[Connection], None], let_go: Callable[[], object]
) -> int:
    """Run `work` through a `LoopWriter` while the file is held, let go after 20 ticks of
    another task: how many ticks the loop ran before the transaction was done."""

    async def scenario() -> int:
        writer = LoopWriter(database, busy_seconds=30)
        try:
            return await ticking_while(asyncio.create_task(writer.run(work)), let_go)
        finally:
            writer.close()

    return asyncio.run(scenario())


def test_a_transaction_waits_for_the_write_lock_without_stopping_the_loop(
    tmp_path: Path,
) -> None:
    database = tmp_path / "lock.db"
    table_on(database)
    other = WriteLock(str(lock_path(str(database))), timeout=5)
    other.acquire()

    ticks = commit_while_held(database, insert(1), other.release)
    assert ticks >= 20, "the loop ran other tasks while the transaction waited"
    assert rows(database) == [1]
    other.close()


def test_a_writer_outside_the_service_is_waited_for_the_same_way(tmp_path: Path) -> None:
    database = tmp_path / "outside.db"
    table_on(database)
    outside = sqlite3.connect(database, isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")  # SQLite's own write lock; no service lock taken
    outside.execute("INSERT INTO t (x) VALUES (7)")

    assert commit_while_held(database, insert(8), lambda: outside.execute("COMMIT")) >= 20
    assert rows(database) == [7, 8]
    outside.close()


def test_past_the_busy_timeout_it_fails_as_sqlite_would_and_writes_nothing(
    tmp_path: Path,
) -> None:
    database = tmp_path / "timeout.db"
    table_on(database)
    other = WriteLock(str(lock_path(str(database))), timeout=5)
    other.acquire()

    async def scenario() -> None:
        writer = LoopWriter(database, busy_seconds=0.05)
        try:
            await writer.run(insert(1))
        finally:
            writer.close()

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        asyncio.run(scenario())
    other.release()
    assert rows(database) == []
    other.close()


def test_a_failed_transaction_rolls_back_and_lets_the_lock_go(tmp_path: Path) -> None:
    database = tmp_path / "failed.db"
    table_on(database)

    def half_then_fail(connection: Connection) -> None:
        connection.execute(text("INSERT INTO t (x) VALUES (1)"))
        connection.execute(text("INSERT INTO t (x) VALUES (1)"))  # the same key again

    async def scenario() -> None:
        writer = LoopWriter(database, busy_seconds=30)
        try:
            with pytest.raises(Exception, match="UNIQUE"):
                await writer.run(half_then_fail)
            probe = WriteLock(str(lock_path(str(database))), timeout=0)
            probe.acquire()  # free: the failed transaction let go
            probe.close()
            await writer.run(insert(2))
        finally:
            writer.close()

    asyncio.run(scenario())
    assert rows(database) == [2]


def test_the_read_audit_commits_on_a_sqlite_file_without_its_engines_pool(
    migrated_settings: Settings,
) -> None:
    """On a SQLite file a batch is the loop writer's: the engine's one pooled connection
    can be taken elsewhere, and every read is still on record when its call returns."""
    if sqlite_file(migrated_settings.database_url) is None:
        pytest.skip("the loop writer is for SQLite files")

    async def run() -> int:
        engine = create_engine(migrated_settings, connections=1)
        reads = ReadAudit(engine, busy_seconds=30)
        writer = asyncio.create_task(reads.run())
        await asyncio.sleep(0)
        try:
            async with engine.connect() as taken:  # the pool's only connection
                ids = [uuid.uuid4() for _ in range(10)]
                await asyncio.gather(*(reads.record(READER, "read", "referral", i) for i in ids))
                recorded = await taken.scalar(
                    select(func.count()).where(AuditEvent.record_id.in_([str(i) for i in ids]))
                )
            return int(recorded or 0)
        finally:
            writer.cancel()
            await engine.dispose()

    assert asyncio.run(run()) == 10
