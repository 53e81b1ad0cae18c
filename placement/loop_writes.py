"""Short SQLite write transactions on the event loop's own thread: the read audit's batches.

Every match waits for its read-audit event to commit. Through aiosqlite a batch was four
statements, each handed to the connection's thread and back through the event loop, with
the file's write lock held across all of them. Under the load test's mix (a loop busy with
other requests, two cores shared with the load generator) each hand-over waited
milliseconds: a batch took a median 7 ms for under one of SQLite's work, and a match waited
a median 18 ms (p95 38 ms) for its event. Here a batch runs on the loop's thread, on a
connection of its own, from its first statement to its commit in one go.

Inline means the loop waits for the transaction, so the transaction must never wait. The
write lock (`placement.write_lock`) is taken only when it is free; while another writer
holds it, the batch waits without blocking the loop, checking as often as `WriteLock`
does. The connection has no busy timeout, so if a writer outside the service holds
SQLite's own lock, the statement fails at once and the batch is tried again the same way.
Past the busy timeout it fails as SQLite would ("database is locked"). The connection
checkpoints the log as any other does (SQLite's default, every 1,000 pages), so a service
that only reads still keeps its log short.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, create_engine, event, exc, pool

from placement.db import json_text, sqlite_pragmas
from placement.faults import unavailable
from placement.write_lock import FIRST_WAIT_S, LONGEST_WAIT_S, WriteLock, lock_path


class LoopWriter:
    """One connection to a SQLite file for transactions run on the calling thread."""

    def __init__(self, database: Path, busy_seconds: float) -> None:
        self._engine = create_engine(
            f"sqlite+pysqlite:///{database}",
            json_serializer=json_text,
            poolclass=pool.StaticPool,
            connect_args={"timeout": 0, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", sqlite_pragmas(0))
        path = lock_path(str(database))
        assert path is not None, "a SQLite file, not an in-memory database"
        self._lock = WriteLock(path, busy_seconds)
        self._busy_seconds = busy_seconds

    async def run(self, work: Callable[[Connection], None]) -> None:
        """Run `work` in one transaction on this thread, once no other writer is in one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_seconds
        wait = FIRST_WAIT_S
        while True:
            if self._lock.try_acquire():
                try:
                    with self._engine.begin() as connection:
                        work(connection)
                    return
                except exc.OperationalError as error:
                    if not unavailable(error):  # busy: a writer outside the service
                        raise
                finally:
                    self._lock.release()
            if loop.time() >= deadline:
                raise sqlite3.OperationalError("database is locked")
            await asyncio.sleep(wait)
            wait = min(2 * wait, LONGEST_WAIT_S)

    def close(self) -> None:
        self._engine.dispose()
        self._lock.close()
