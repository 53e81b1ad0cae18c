"""When the database does not answer: which failures are an outage rather than a bug.

A stopped, frozen, restarting or overloaded database is nobody's mistake in the request:
the client should be told to try again shortly (503), not that something broke (500).
The drivers say so in many ways (a refused or timed-out connection, a connection the
server dropped, a statement cancelled by its timeout, the pool running dry, SQLite's
write lock held past its busy timeout); this module is the one place that knows them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import exc as sa

T = TypeVar("T")
log = logging.getLogger(__name__)

# SQLSTATEs of a server that cannot take the work now, not of work that is wrong:
# connection failures (class 08), out of connections, memory or disk (class 53), a
# statement cancelled by its timeout (57014), the server shutting down, crashed or
# starting up (57P01 to 57P03).
UNAVAILABLE_SQLSTATES = ("08", "53", "57014", "57P01", "57P02", "57P03")
SQLITE_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

RAISED_BY_OUTAGES: tuple[type[Exception], ...] = (
    sa.TimeoutError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
"""The exception types an outage can surface as, besides SQLAlchemy's `DBAPIError`
(which wraps the driver's errors); `unavailable` says which instances are one."""


def unavailable(error: BaseException) -> bool:
    """True when `error` means the database did not answer, so a retry may succeed.

    Any OSError counts (refused, timed out, unreachable, unknown host): a request touches
    no file and no network but the database's. SQLAlchemy's wrapped errors are judged by
    the driver's error inside them.
    """
    if isinstance(error, sa.TimeoutError | OSError | asyncpg.ConnectionDoesNotExistError):
        return True
    if isinstance(error, sa.DBAPIError):
        return error.connection_invalidated or (error.orig is not None and unavailable(error.orig))
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith(UNAVAILABLE_SQLSTATES)
    if isinstance(error, sqlite3.Error):
        return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in SQLITE_BUSY
    return False


def dropped(error: BaseException) -> bool:
    """True when the connection under `error` was lost: the same work on a fresh
    connection may well succeed at once (the server restarted, or closed an idle one)."""
    if isinstance(error, sa.DBAPIError):
        return error.connection_invalidated
    return isinstance(error, asyncpg.ConnectionDoesNotExistError)


async def retry_once_if_dropped(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work`, and once more if its connection was dropped under it.

    For work that is safe to repeat. The pool refuses connections it knows are closed
    (see `placement.db`), but a connection can also be lost while in use.
    """
    try:
        return await work()
    except Exception as error:
        if not dropped(error):
            raise
        log.warning("database connection dropped (%s); trying once more", error)
    return await work()
