"""Reads on the event loop's own thread, for SQLite: a match's one query without a hop.

aiosqlite runs every statement on a thread of its connection's own: a queue put, a
thread woken, the GIL handed over and back, and a callback on the event loop. For a
match's referral read (about 20 us of SQLite's work) that hand-over cost far more CPU
than the query, on both threads. Here a read-only connection of a synchronous engine on
the same file answers such reads inline instead.

Inline means the event loop waits for the read, so the read must never wait for
anything: in WAL mode a reader does not wait for writers, and this connection has no
busy timeout, so a read that would have to wait (a checkpoint truncating the log, a
recovery) fails at once and is made the usual way, on a connection of the async
engine's pool. Only SQLite files are read so; PostgreSQL's driver has no thread to hop
to, and an in-memory database is not shared between engines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, Executable, Row, event, make_url
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from placement.db import reading, sqlite_file

WAIT_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
INLINE_CONNECTIONS = 2
"""Connections kept for inline reads: one is in use at a time per event loop (a read
runs to its end before the loop goes on), the second serves an app's other loop (tests
run several)."""


class InlineReads:
    """Single-row reads made inline where the database allows, else on the session's
    engine outside any transaction (`placement.db.reading`)."""

    def __init__(self, database_url: str | None = None) -> None:
        self._engine = _inline_engine(database_url) if database_url else None

    @property
    def inline(self) -> bool:
        """Whether reads are made on the event loop's thread (a SQLite file)."""
        return self._engine is not None

    async def first(
        self, session: AsyncSession, statement: Executable, parameters: Mapping[str, Any]
    ) -> Row[Any] | None:
        """The first row `statement` gives, read outside any transaction."""
        if self._engine is not None:
            try:
                with self._engine.connect() as connection:
                    return connection.execute(statement, parameters).first()
            except OperationalError as error:
                if not _would_wait(error):
                    raise
        async with reading(session) as connection:
            return (await connection.execute(statement, parameters)).first()

    def dispose(self) -> None:
        """Close the inline connections (the app's shutdown does)."""
        if self._engine is not None:
            self._engine.dispose()


def _inline_engine(database_url: str) -> Engine | None:
    if sqlite_file(database_url) is None:
        return None
    url = make_url(database_url)
    engine = create_sync_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 0},  # no busy wait: a read that must wait goes elsewhere
        pool_size=INLINE_CONNECTIONS,
        max_overflow=0,
        pool_reset_on_return=None,  # it never writes, so it has nothing to roll back
    )
    event.listen(engine, "connect", _read_only)
    return engine


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    """No statement on this connection can write, whatever a caller sends."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _would_wait(error: OperationalError) -> bool:
    """SQLite refused at once what it would have answered after a wait: SQLITE_BUSY, or
    SQLITE_LOCKED (either with its extended codes, in the low byte)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in WAIT_CODES
