"""A probe, run in a process of its own by tests/test_db.py: a statement fails, then the
same connection waits for SQLite's write lock while the event loop collects garbage.

    python -m tests.sqlite_freeze PATH    # prints the outcome as JSON

Its own process, because a collection finalises whatever garbage the process holds: in
the full test suite the probe's collection froze past the busy timeout (a full run
reproduced it), from garbage the probe did not make, which is not what it tests.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

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


def probe(path: Path) -> dict[str, Any]:
    """What happened: the busy timeout, whether each step was reached, whether the holder
    was released in time, and how the waiting INSERT ended ("done" or SQLite's error)."""
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
                try:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                except IntegrityError:
                    outcome["failed_first"] = True
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
                    outcome["taken"] = await asyncio.to_thread(taken.wait, SAFETY_TIMEOUT)
                    waiting = asyncio.create_task(conn.execute(text(WAITING_INSERT)))
                    outcome["stepping"] = await asyncio.to_thread(stepping.wait, SAFETY_TIMEOUT)
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

    gc.disable()  # so the failed cursor is still garbage when the probe collects it
    try:
        asyncio.run(run())
    finally:
        gc.enable()
    check = sqlite3.connect(path)
    try:
        outcome["rows"] = [row[0] for row in check.execute("SELECT id FROM t ORDER BY id")]
    finally:
        check.close()
    return outcome


if __name__ == "__main__":
    print(json.dumps(probe(Path(sys.argv[1]))))
