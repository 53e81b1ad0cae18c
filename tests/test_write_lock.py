"""SQLite writers queue on `placement.write_lock`: held from a transaction's first write
to its end, whichever way it ends, never by a reader, and never left behind by a
connection that goes away. Each check asks a second lock on the same file, which gives
up at once ("database is locked") if the lock is held: an outcome, not a clock."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from placement.db import engine_options, install_sqlite_pragmas
from placement.write_lock import WriteLock, lock_path, starts_transaction


def held(database: Path) -> bool:
    """Whether some connection holds the file's write lock now."""
    probe = WriteLock(f"{database}-writelock", timeout=0)
    try:
        probe.acquire()
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()
    return False


def engine_on(database: Path) -> AsyncEngine:
    """An engine as the service makes one: the service's dialect, pool and pragmas."""
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_async_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    return engine


async def with_table(database: Path) -> AsyncEngine:
    engine = engine_on(database)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    return engine


def test_a_second_writer_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    path = str(tmp_path / "db-writelock")
    first, second = WriteLock(path, timeout=5), WriteLock(path, timeout=0)
    first.acquire()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.acquire()
    first.release()
    second.acquire()  # free now: taken at the first try
    with pytest.raises(sqlite3.OperationalError):
        first._timeout = 0
        first.acquire()
    second.close()
    first.close()


def test_a_write_transaction_holds_the_lock_until_it_commits(tmp_path: Path) -> None:
    database = tmp_path / "commit.db"

    async def scenario() -> None:
        engine = await with_table(database)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT count(*) FROM t"))
            assert not held(database), "a read takes no write lock"
            await connection.execute(text("INSERT INTO t (x) VALUES (1)"))
            assert held(database)
            await connection.execute(text("INSERT INTO t (x) VALUES (2)"))
            await connection.commit()
            assert not held(database)
            rows = (await connection.execute(text("SELECT x FROM t ORDER BY x"))).scalars()
            assert list(rows) == [1, 2]
        await engine.dispose()

    asyncio.run(scenario())


def test_a_rolled_back_or_failed_transaction_lets_go(tmp_path: Path) -> None:
    database = tmp_path / "rollback.db"

    async def scenario() -> None:
        engine = await with_table(database)
        async with engine.connect() as connection:
            await connection.execute(text("INSERT INTO t (x) VALUES (1)"))
            assert held(database)
            await connection.rollback()
            assert not held(database)
        async with engine.connect() as connection:
            await connection.execute(text("INSERT INTO t (x) VALUES (1)"))
            with pytest.raises(Exception, match="UNIQUE"):
                await connection.execute(text("INSERT INTO t (x) VALUES (1)"))
            await connection.rollback()
            assert not held(database)
        async with engine.connect() as connection:  # a failed first write opens nothing
            with pytest.raises(Exception, match="no such table"):
                await connection.execute(text("INSERT INTO missing (x) VALUES (1)"))
            assert not held(database)
        await engine.dispose()

    asyncio.run(scenario())


def test_a_connection_that_goes_away_mid_transaction_lets_go(tmp_path: Path) -> None:
    """Closed by the pool (dispose), or invalidated, the connection's file closes and the
    lock with it: no writer waits for a transaction nobody will end."""
    database = tmp_path / "gone.db"

    async def scenario() -> None:
        engine = await with_table(database)
        connection = await engine.connect()
        await connection.execute(text("INSERT INTO t (x) VALUES (1)"))
        assert held(database)
        await connection.invalidate()
        gc.collect()
        assert not held(database)
        await connection.close()
        async with engine.begin() as again:
            await again.execute(text("INSERT INTO t (x) VALUES (2)"))
        assert not held(database)
        await engine.dispose()

    asyncio.run(scenario())


def test_two_engines_write_in_turn_without_losing_a_row(tmp_path: Path) -> None:
    """Two pools (as two workers) writing at once: every write lands, none fails."""
    database = tmp_path / "turns.db"

    async def writer(engine: AsyncEngine, start: int) -> None:
        for x in range(start, start + 40):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t (x) VALUES (:x)"), {"x": x})
                await asyncio.sleep(0)  # let the other writer ask meanwhile

    async def scenario() -> None:
        first = await with_table(database)
        second = engine_on(database)
        await asyncio.gather(writer(first, 0), writer(second, 1000), writer(first, 2000))
        async with second.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert count == 120
        assert not held(database)
        await first.dispose()
        await second.dispose()

    asyncio.run(scenario())


def test_only_a_file_has_a_lock_and_only_dml_opens_a_transaction() -> None:
    assert lock_path(":memory:") is None
    assert lock_path("") is None
    assert lock_path("/data/placement.db") == "/data/placement.db-writelock"
    connection = sqlite3.connect(":memory:")
    assert starts_transaction(connection, "  insert into t values (1)")
    assert starts_transaction(connection, "UPDATE t SET x = 1")
    assert starts_transaction(connection, "DELETE FROM t")
    assert starts_transaction(connection, "REPLACE INTO t VALUES (1)")
    assert not starts_transaction(connection, "SELECT 1")
    assert not starts_transaction(connection, "CREATE TABLE t (x)")
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    assert not starts_transaction(connection, "INSERT INTO t VALUES (2)"), "already open"
    connection.close()
