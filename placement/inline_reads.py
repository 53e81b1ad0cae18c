"""Reads on the event loop's own thread, for SQLite: a match's one query without a hop.

aiosqlite runs every statement on a thread of its connection's own: a queue put, a
thread woken, the GIL handed over and back, and a callback on the event loop. For a
match's referral read (about 25 us of SQLite's work) that hand-over cost far more CPU
than the query, on both threads. Here a read-only sqlite3 connection on the same file
answers such reads inline instead.

Inline means the event loop waits for the read, so the read must never wait for
anything: in WAL mode a reader does not wait for writers, and this connection has no
busy timeout, so a read that would have to wait (a checkpoint truncating the log, a
recovery) fails at once and is made the usual way, on a connection of the async
engine's pool. Only SQLite files are read so; PostgreSQL's driver has no thread to hop
to, and an in-memory database is not shared between connections.

The statement is SQLAlchemy's, compiled once by SQLAlchemy's SQLite dialect, and its
values pass through the column types' own bind and result processors; only the
execution is sqlite3's. Going through a synchronous engine instead cost about 150 us of
CPU per read for those 25 us (connection checkout, cache-key lookup, execution context,
result object: measured 147 us against 25 us for the match read on the national fixture).

Rarer reads that go through the ORM (the registry index catching up with the change feed
before a match) get a session whose statements run inline the same way (`session`, on
`InlineSQLiteDialect`): aiosqlite's adapter, with a plain read-only connection under it and
every call made on the spot.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import ClauseElement, Executable, exc, pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler

from placement.db import (
    OneHopConnection,
    OneHopCursor,
    OpenTransactionsSQLiteDialect,
    StatementOutcome,
    json_text,
    reading,
    run_statement,
    sqlite_file,
)
from placement.faults import unavailable

DIALECT = SQLiteDialect_pysqlite()
Processor = Callable[[Any], Any] | None
REQUIRED = object()


@dataclass(frozen=True, slots=True)
class PreparedRead:
    """A statement as SQLite takes it: its SQL, where each value comes from (a
    parameter's name, or a constant the statement holds) with its bind processor, and
    the result columns' processors."""

    sql: str
    binds: tuple[tuple[str, Processor, Any], ...]
    """Per value in order: the parameter's name, its processor, and the statement's own
    value (`REQUIRED` where the caller must give one)."""
    results: tuple[Processor, ...]

    def values(self, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's positional values for `parameters`, as the driver takes them
        (KeyError for a parameter the statement needs and was not given)."""
        out = []
        for name, processor, own in self.binds:
            value = parameters[name] if own is REQUIRED else parameters.get(name, own)
            out.append(value if processor is None else processor(value))
        return tuple(out)

    def row(self, cursor: sqlite3.Cursor, raw: Sequence[Any]) -> Any:
        """One row with the columns' Python types, its fields named as the columns."""
        fields = _row_type(tuple(column[0] for column in cursor.description))
        if not self.results:
            return fields(*raw)
        return fields(*(v if p is None else p(v) for p, v in zip(self.results, raw, strict=True)))


@lru_cache(maxsize=64)
def prepared(statement: Executable) -> PreparedRead:
    """`statement` compiled once: a hot read's statement is built once, at import, and
    kept (a statement is known by its identity here)."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=DIALECT)
    assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
    own = compiled.params  # the values the statement holds
    binds = tuple(
        (
            name,
            _bind_processor(compiled, name),
            REQUIRED if compiled.binds[name].required else own[name],
        )
        for name in compiled.positiontup
    )
    columns = getattr(statement, "selected_columns", ())
    results = tuple(c.type.dialect_impl(DIALECT).result_processor(DIALECT, None) for c in columns)
    return PreparedRead(compiled.string, binds, results)


def _bind_processor(compiled: SQLCompiler, name: str) -> Processor:
    type_ = compiled.binds[name].type
    processor: Processor = type_.dialect_impl(DIALECT).bind_processor(DIALECT)
    return processor


@cache
def _row_type(fields: tuple[str, ...]) -> Any:
    return namedtuple("InlineRow", fields, rename=True)  # type: ignore[misc]


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never waits (no busy timeout) and cannot write, whatever a
    caller sends; in autocommit mode, so a read holds the file's snapshot only while it
    runs."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA query_only=ON")
    return connection


class _Driver:
    """What aiosqlite's adapter reaches for in an aiosqlite connection, on sqlite3's own."""

    __slots__ = ("_conn",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level


class InlineCursor(OneHopCursor):
    """A statement run on the spot: no thread to hop to, so no wait on the event loop."""

    __slots__ = ()

    def _statement(self, operation: Any, parameters: Any, many: bool) -> StatementOutcome:
        return run_statement(self._connection._conn, operation, parameters, many, None)


class InlineConnection(OneHopConnection):
    """The adapter's connection over a read-only sqlite3 connection, every call made on
    the calling thread (the adapter would await aiosqlite's thread for each)."""

    __slots__ = ()

    def cursor(self, server_side: bool = False) -> InlineCursor:
        return InlineCursor(self)  # rows are fetched whole either way

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._connection._conn.create_function(*args, **kw)

    def rollback(self) -> None:
        self._connection._conn.rollback()

    def commit(self) -> None:
        self._connection._conn.commit()

    def close(self) -> None:
        self._connection._conn.close()

    async def _terminate_graceful_close(self) -> None:
        self.close()

    def _terminate_force_close(self) -> None:
        self.close()


class InlineSQLiteDialect(OpenTransactionsSQLiteDialect):
    """`sqlite+aiosqlite_inline://`: SQLite reads on the calling thread, for an
    `AsyncSession` (`InlineReads.session`). Its connections cannot write and never wait."""

    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        connection = connect_read_only(Path(cargs[0]))
        return InlineConnection(self.loaded_dbapi, _Driver(connection), None)


registry.register("sqlite.aiosqlite_inline", __name__, InlineSQLiteDialect.__name__)


class InlineReads:
    """Single-row reads made inline where the database allows, else on the session's
    engine outside any transaction (`placement.db.reading`); and sessions for reads that
    run inline (`session`)."""

    def __init__(self, database_url: str | None = None) -> None:
        self._path = sqlite_file(database_url) if database_url else None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._engine: AsyncEngine | None = None

    @property
    def inline(self) -> bool:
        """Whether reads are made on the event loop's thread (a SQLite file)."""
        return self._path is not None

    async def first(
        self, session: AsyncSession, statement: Executable, parameters: Mapping[str, Any]
    ) -> Any:
        """The first row `statement` gives (None if none), read outside any transaction;
        its columns by position or by name."""
        if self._path is not None:
            try:
                return self._read(prepared(statement), parameters)
            except sqlite3.OperationalError as error:
                if not unavailable(error):  # a read that would wait goes to the pool
                    raise exc.DBAPIError.instance(
                        prepared(statement).sql, None, error, sqlite3.Error
                    ) from error
        async with reading(session) as connection:
            return (await connection.execute(statement, parameters)).first()

    def _read(self, read: PreparedRead, parameters: Mapping[str, Any]) -> Any:
        cursor = self._connection().execute(read.sql, read.values(parameters))
        rows = cursor.fetchall()  # to the end: the statement resets and lets go of the file
        return read.row(cursor, rows[0]) if rows else None

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (an app's loops may run on several threads; a read
        runs to its end before its loop goes on, so one per thread is never shared)."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            assert self._path is not None
            connection = connect_read_only(self._path)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def session(self) -> AsyncSession | None:
        """A session whose statements run on this thread and can only read, or None
        where reads are not inline. A read that would wait fails at once, as SQLite's
        busy error (`placement.faults.unavailable` says so); make it the usual way then.
        Its one connection is shared by every such session: it is never in a transaction
        and holds no rows between statements, so one statement at a time is all it does."""
        if self._path is None:
            return None
        if self._engine is None:
            self._engine = create_async_engine(
                f"sqlite+aiosqlite_inline:///{self._path}",
                poolclass=pool.StaticPool,
                json_serializer=json_text,
            )
        return AsyncSession(self._engine, expire_on_commit=False)

    def dispose(self) -> None:
        """Close the inline connections (the app's shutdown does); a later read opens
        its thread's again."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()
        if self._engine is not None:
            self._engine.sync_engine.dispose()
            self._engine = None
