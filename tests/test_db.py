"""The SQLite engine's safety settings, against a real database file."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from placement.db import engine_options, install_sqlite_pragmas

HOLD_SECONDS = 1.5


def hold_write_lock(path: Path, taken: threading.Event) -> None:
    """Another process's writer: takes SQLite's write lock and keeps it a while."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(HOLD_SECONDS)
    holder.execute("COMMIT")
    holder.close()


def test_a_failed_statement_cannot_freeze_the_event_loop_while_a_write_waits(
    tmp_path: Path,
) -> None:
    """A statement fails, then the same connection waits for the write lock. Collecting
    the failed statement's cursor on the event loop must not wait with it."""
    path = tmp_path / "lock.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.commit()
    setup.close()
    url = f"sqlite+aiosqlite:///{path}"

    async def run() -> float:
        engine = create_async_engine(url, **engine_options(url))
        install_sqlite_pragmas(engine)
        try:
            async with engine.connect() as conn:
                with pytest.raises(IntegrityError):
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                await conn.rollback()
                taken = threading.Event()
                holder = threading.Thread(target=hold_write_lock, args=(path, taken))
                holder.start()
                await asyncio.to_thread(taken.wait)
                waiting = asyncio.create_task(conn.execute(text("INSERT INTO t VALUES (2)")))
                await asyncio.sleep(0.2)  # the insert is now in SQLite's busy wait
                started = time.monotonic()
                gc.collect()  # what the interpreter may do on the loop at any moment
                collected_in = time.monotonic() - started
                await waiting
                await conn.commit()
                await asyncio.to_thread(holder.join)
            return collected_in
        finally:
            await engine.dispose()

    gc.disable()  # so the failed cursor is still garbage when the test collects it
    try:
        collected_in = asyncio.run(run())
    finally:
        gc.enable()
    assert collected_in < HOLD_SECONDS / 2
