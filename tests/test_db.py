"""The SQLite engine's safety settings, against a real database file."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from placement.db import engine_options, install_sqlite_pragmas

# Only so that a broken run ends: no healthy run comes near it. Longer than the engine's
# busy timeout (30 s), so a broken run ends when that fires, with "database is locked".
SAFETY_TIMEOUT = 60.0
WAITING_INSERT = "INSERT INTO t VALUES (2)"


def hold_write_lock(
    path: Path, taken: threading.Event, release: threading.Event, outcome: dict[str, Any]
) -> None:
    """Another process's writer: takes SQLite's write lock and keeps it until released."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        taken.set()
        outcome["released"] = release.wait(SAFETY_TIMEOUT)
        holder.execute("COMMIT")
    finally:
        holder.close()


def test_a_failed_statement_cannot_freeze_the_event_loop_while_a_write_waits(
    tmp_path: Path,
) -> None:
    """A statement fails, then the same connection waits for the write lock. Collecting
    the failed statement's cursor on the event loop must not wait with it.

    The lock is released only after `gc.collect()` returns on the loop. If collecting
    waited for the waiting connection, it could return only when that connection gave up
    (its busy timeout: the INSERT fails, "database is locked") or the holder did (its
    safety timeout): either way the outcome, not a clock, shows it.
    """
    path = tmp_path / "lock.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.commit()
    setup.close()
    url = f"sqlite+aiosqlite:///{path}"
    outcome: dict[str, Any] = {}

    async def run() -> None:
        engine = create_async_engine(url, **engine_options(url))
        install_sqlite_pragmas(engine)
        try:
            async with engine.connect() as conn:
                busy_ms = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
                outcome["busy_timeout_ms"] = busy_ms
                with pytest.raises(IntegrityError):
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                await conn.rollback()

                # Set on the connection's own thread as SQLite starts stepping the INSERT:
                # from then until the step returns, that thread holds the connection's
                # lock, waiting for the write lock.
                stepping = threading.Event()

                def trace(statement: str) -> None:
                    if statement.startswith(WAITING_INSERT):
                        stepping.set()

                driver = (await conn.get_raw_connection()).driver_connection
                assert driver is not None
                await driver.set_trace_callback(trace)

                taken, release = threading.Event(), threading.Event()
                holder = threading.Thread(
                    target=hold_write_lock, args=(path, taken, release, outcome)
                )
                holder.start()
                try:
                    assert await asyncio.to_thread(taken.wait, SAFETY_TIMEOUT)
                    waiting = asyncio.create_task(conn.execute(text(WAITING_INSERT)))
                    assert await asyncio.to_thread(stepping.wait, SAFETY_TIMEOUT)
                    gc.collect()  # what the interpreter may do on the loop at any moment
                finally:
                    release.set()
                    await asyncio.to_thread(holder.join)
                try:
                    await waiting
                except OperationalError as error:
                    outcome["insert"] = str(error.orig)
                else:
                    outcome["insert"] = "done"
                    await conn.commit()
                await driver.set_trace_callback(None)
        finally:
            await engine.dispose()

    gc.disable()  # so the failed cursor is still garbage when the test collects it
    try:
        asyncio.run(run())
    finally:
        gc.enable()
    assert outcome["busy_timeout_ms"] >= 10_000, "the waiting INSERT must be able to wait"
    assert outcome["released"], "gc.collect() kept the write lock held past its safety timeout"
    assert outcome["insert"] == "done", "gc.collect() froze the loop until the INSERT gave up"
    check = sqlite3.connect(path)
    try:
        assert check.execute("SELECT id FROM t ORDER BY id").fetchall() == [(1,), (2,)]
    finally:
        check.close()


def test_sqlite_transactions_are_ended_only_when_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session that only read sends the driver no COMMIT or ROLLBACK (each would be a
    hop to the connection's thread for nothing); a write is still committed, or rolled
    back, once. Counted at the driver, and the written rows read back."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ends.db'}"
    ended: list[str] = []
    for name in ("commit", "rollback"):
        end = getattr(aiosqlite.Connection, name)

        async def counted(
            connection: aiosqlite.Connection, _end: Any = end, _name: str = name
        ) -> None:
            ended.append(_name)
            await _end(connection)

        monkeypatch.setattr(aiosqlite.Connection, name, counted)

    async def ends(*statements: str, commit: bool) -> list[str]:
        ended.clear()
        async with AsyncSession(engine) as session:
            for statement in statements:
                await session.execute(text(statement))
            await (session.commit() if commit else session.rollback())
        return list(ended)

    async def run() -> dict[str, Any]:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        try:
            return {
                "read, committed": await ends("SELECT count(*) FROM t", commit=True),
                "read, rolled back": await ends("SELECT count(*) FROM t", commit=False),
                "write, committed": await ends("INSERT INTO t VALUES (1)", commit=True),
                "write, rolled back": await ends("INSERT INTO t VALUES (2)", commit=False),
                "rows": list(await _rows(engine)),
            }
        finally:
            await engine.dispose()

    engine = create_async_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    outcome = asyncio.run(run())
    assert outcome == {
        "read, committed": [],
        "read, rolled back": [],
        "write, committed": ["commit"],
        "write, rolled back": ["rollback"],
        "rows": [(1,)],
    }


async def _rows(engine: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(text("SELECT id FROM t"))]


def test_a_sqlite_statement_is_one_hop_to_its_connections_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement, whatever it is, is one call queued to the connection's thread
    (SQLAlchemy's own adapter makes four: cursor, execute, fetch, close), and answers as
    before: the rows of a read, the count and last row id of a write, the same error for
    a broken rule, after which the connection goes on working. Counted at the driver."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}"
    hops: list[str] = []
    queue_call = aiosqlite.Connection._execute

    async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(fn, "__name__", "?"))
        return await queue_call(connection, fn, *args, **kwargs)

    async def run() -> dict[str, Any]:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        seen: dict[str, Any] = {}
        async with engine.connect() as conn:
            hops.clear()
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            seen["insert"] = (inserted.rowcount, inserted.lastrowid, len(hops))
            hops.clear()
            many = await conn.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
            )
            seen["insert many"] = (many.rowcount, len(hops))
            hops.clear()
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (id, name) VALUES (1, 'again')"))
            seen["refused"] = len(hops)
            hops.clear()
            rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
            seen["select"] = ([tuple(row) for row in rows], len(hops))
            await conn.commit()
        return seen

    engine = create_async_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    try:
        outcome = asyncio.run(run())
    finally:
        asyncio.run(engine.dispose())
    assert outcome == {
        "insert": (1, 1, 1),
        "insert many": (2, 1),
        "refused": 1,
        "select": ([(1, "a"), (2, "b"), (3, "c")], 1),
    }
