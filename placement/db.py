"""Database engines and migrations.

Alembic is the only thing that creates or changes the schema, on SQLite and PostgreSQL
alike; nothing calls `create_all`. SQLite gets the pragmas that make it a safe
multi-connection store (foreign keys on, WAL so readers don't block the writer, a busy
timeout so concurrent writers queue instead of failing).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import msgspec
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from placement.config import DatabaseTimeouts, Settings
from placement.write_lock import WriteLock, lock_path, starts_transaction

MIGRATIONS = "placement:migrations"


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_TIMEOUTS = DatabaseTimeouts()
CLIENT_GRACE_SECONDS = 0.5
"""How much longer than the server's statement timeout the client waits for an answer."""


def engine_options(
    database_url: str, timeouts: DatabaseTimeouts = DEFAULT_TIMEOUTS
) -> dict[str, Any]:
    """Keyword arguments for `create_async_engine`, per backend.

    Pools are sized for a worker's requests in flight (about 25 under the load test): a
    smaller pool opened and closed an overflow connection per request. An operator sizes
    them otherwise with PLACEMENT_DB_POOL_SIZE and PLACEMENT_DB_POOL_OVERFLOW (workers
    times both must stay within PostgreSQL's `max_connections`). PostgreSQL
    connections are not pinged at each checkout (a round trip per request); they are
    recycled after half an hour, and one the server closed is replaced at checkout (see
    `_replace_closed`). On loopback, asyncpg is told not to try SSL first (one wasted
    exchange per new connection) unless the URL asks for it.

    Every wait on the database is bounded (see `DatabaseTimeouts`), so a database that
    does not answer costs a request seconds, not minutes: asyncpg's `timeout` bounds a
    connection's opening, the server's `statement_timeout` a statement, and asyncpg's
    `command_timeout` (a little longer, so the server's own cancel comes first when it
    can) a statement the server never answers.
    """
    if database_url.startswith("sqlite"):
        return {
            "connect_args": {"timeout": timeouts.sqlite_busy},
            "pool_size": 20,
            "max_overflow": 20,
            "pool_timeout": timeouts.pool,
        }
    connect_args: dict[str, Any] = {
        "timeout": timeouts.connect,
        "command_timeout": timeouts.statement + CLIENT_GRACE_SECONDS,
        "server_settings": {"statement_timeout": str(round(timeouts.statement * 1000))},
    }
    url = make_url(database_url)
    if url.host in LOOPBACK_HOSTS and not {"ssl", "sslmode"} & set(url.query):
        connect_args["ssl"] = False
    return {
        "pool_size": 25,
        "max_overflow": 10,
        "pool_recycle": 1800,
        "pool_timeout": timeouts.pool,
        "connect_args": connect_args,
    }


async def outside_transaction(session: AsyncSession) -> None:
    """Run the rest of this session's reads without an explicit transaction, where the
    backend allows: on PostgreSQL a read-only request then sends no BEGIN and COMMIT.

    Call it before the session's first statement. SQLite's driver opens no transaction
    for reads anyway, and setting its isolation level costs round trips, so it is left
    as it is. Reads made this way are each consistent, not consistent with each other.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@asynccontextmanager
async def reading(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """A connection of the session's engine for a read outside any transaction, given
    back to the pool as soon as the read is done.

    For a read-only request's one query (a match's), the session is a cost with no use:
    it would hold its connection until the response is sent and commit nothing at the
    end. On PostgreSQL the connection is in AUTOCOMMIT, as `outside_transaction` puts a
    session: no BEGIN or COMMIT is sent.
    """
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("reading() needs a session bound to an engine")
    # Closed here, not by `async with`: that closes in a task of its own (shielded from
    # cancellation), a task per request; the request's session is closed inline too.
    connection = await engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection
    finally:
        await connection.close()


class OpenTransactionsSQLiteDialect(SQLiteDialect_aiosqlite):
    """aiosqlite, ending a connection's transaction only when one is open.

    A session that only read opened none (Python's sqlite3 begins one only before a
    write), yet SQLAlchemy still ends it: COMMIT or ROLLBACK from the session, ROLLBACK
    again as the pool takes the connection back. sqlite3 would then do nothing, but each
    call is first a hop to the connection's thread and back: two or three per read-only
    request. Whether a transaction is open is SQLite's own flag, read without a hop, so
    what SQLite does is unchanged; only the empty round trips go.
    """

    supports_statement_cache = True  # as its base: SQLAlchemy asks each subclass to say

    def do_commit(self, dbapi_connection: Any) -> None:
        if dbapi_connection.driver_connection.in_transaction:
            try:
                super().do_commit(dbapi_connection)
            finally:
                dbapi_connection.transaction_ended()

    def do_rollback(self, dbapi_connection: Any) -> None:
        if dbapi_connection.driver_connection.in_transaction:
            try:
                super().do_rollback(dbapi_connection)
            finally:
                dbapi_connection.transaction_ended()

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        adapted = super().connect(*cargs, **cparams)
        path = lock_path(str(cargs[0])) if cargs else None
        lock = None if path is None else WriteLock(path, float(cparams.get("timeout", 5.0)))
        return OneHopConnection(adapted.dbapi, adapted._connection, lock)


StatementOutcome = tuple[Any, list[Any], Any, int]
"""A statement's description, rows, lastrowid and rowcount, as the adapter's cursor
reports them (lastrowid is None for a statement that inserted nothing)."""


def run_statement(
    connection: sqlite3.Connection,
    operation: str,
    parameters: Any,
    many: bool,
    write_lock: WriteLock | None,
) -> StatementOutcome:
    """A statement from cursor to close on the connection's own thread: its description,
    its rows, and its lastrowid and rowcount as SQLAlchemy's adapter reports them.

    The first write of a transaction waits for the write lock first (`WriteLock`); the
    lock goes when the transaction ends, or at once if the statement failed to open one.
    """
    locking = write_lock is not None and starts_transaction(connection, operation)
    if locking:
        write_lock.acquire()  # type: ignore[union-attr]
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description and not many:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()
        if locking and not connection.in_transaction:
            write_lock.release()  # type: ignore[union-attr]


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, with a statement one hop to the connection's thread.

    The adapter makes four: open a cursor, execute, fetch the rows, close. Each hop is a
    queue put, a thread wake-up and a callback on the event loop, and under load a wait
    for the GIL: profiling `placement seed --history` found the hops, not SQLite, were
    most of the time of every statement. Here one function does all four there, so the
    cursor never leaves that thread. It is closed there when its statement fails too:
    the adapter left a failed statement's cursor open, for the garbage collector to
    finalise on whichever thread collected it, often the event loop's, and finalising
    takes its connection's lock; had that connection been waiting (up to the busy
    timeout) for SQLite's write lock meanwhile, the whole worker froze. Results are what
    the adapter's own cursor gives.
    """

    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            description, rows, lastrowid, rowcount = self._statement(operation, parameters, many)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        self._rows = deque(rows)
        self.lastrowid, self.rowcount = lastrowid, rowcount

    def _statement(self, operation: Any, parameters: Any, many: bool) -> StatementOutcome:
        """`run_statement`, on the connection's thread."""
        driver = self._connection
        write_lock = cast("OneHopConnection", self._adapt_connection).write_lock
        return cast(
            "StatementOutcome",
            self.await_(
                driver._execute(
                    run_statement, driver._conn, operation, parameters, many, write_lock
                )
            ),
        )


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """The adapter's connection, whose plain cursors are `OneHopCursor`s (server-side
    cursors, which fetch as they are read, stay the adapter's own), holding the file's
    `WriteLock` through each of its write transactions (none for an in-memory file)."""

    __slots__ = ("write_lock",)

    def __init__(self, dbapi: Any, connection: Any, write_lock: WriteLock | None) -> None:
        super().__init__(dbapi, connection)
        self.write_lock = write_lock

    def transaction_ended(self) -> None:
        if self.write_lock is not None and not self._connection.in_transaction:
            self.write_lock.release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()

    async def _terminate_graceful_close(self) -> None:
        try:
            await super()._terminate_graceful_close()
        finally:
            self._let_go()

    def _terminate_force_close(self) -> None:
        try:
            super()._terminate_force_close()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """However the connection ends, its lock's file closes, and the lock with it."""
        if self.write_lock is not None:
            self.write_lock.close()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return OneHopCursor(self)


registry.register("sqlite.aiosqlite", __name__, OpenTransactionsSQLiteDialect.__name__)


def sqlite_pragmas(busy_seconds: float) -> Callable[[Any, Any], None]:
    """The `connect` hook of every SQLite connection the service writes through."""

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_seconds * 1000)}")
        cursor.close()

    return set_pragmas


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, so the pool opens a fresh one.

    After a restart (or an idle connection closed by the server) every pooled connection
    is dead, and each would fail the request that drew it. asyncpg notices the close as it
    happens, so asking it costs no round trip, unlike a ping at every checkout.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def _drop_unanswered(context: ExceptionContext) -> None:
    """Close a connection at once when its statement timed out or was given up on.

    The server did not answer in time, so it may not answer a polite goodbye either:
    SQLAlchemy would wait up to two more seconds for one before closing the connection
    anyway (as it does with any connection whose statement was interrupted).
    """
    unanswered = isinstance(context.original_exception, TimeoutError | asyncio.CancelledError)
    if unanswered and context.connection is not None:
        driver = context.connection.connection.driver_connection
        if driver is not None:
            driver.terminate()


def install_sqlite_pragmas(
    engine: AsyncEngine, busy_seconds: float = DatabaseTimeouts.sqlite_busy
) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", sqlite_pragmas(busy_seconds))


def install_fault_handling(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine.pool, "checkout", _replace_closed)
        event.listen(engine.sync_engine, "handle_error", _drop_unanswered)


def sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL names; None for another backend or an in-memory database
    (which no second engine or connection can share)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def ensure_sqlite_dir(database_url: str) -> None:
    path = sqlite_file(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def create_engine(settings: Settings, *, connections: int | None = None) -> AsyncEngine:
    """The service's engine; `connections` fixes the pool at that many (no overflow)."""
    ensure_sqlite_dir(settings.database_url)
    timeouts = settings.database_timeouts
    options = engine_options(settings.database_url, timeouts)
    if settings.db_pool_size is not None:
        options["pool_size"] = settings.db_pool_size
    if settings.db_pool_overflow is not None:
        options["max_overflow"] = settings.db_pool_overflow
    if connections is not None:
        options |= {"pool_size": connections, "max_overflow": 0}
    engine = create_async_engine(settings.database_url, json_serializer=json_text, **options)
    install_sqlite_pragmas(engine, timeouts.sqlite_busy)
    install_fault_handling(engine)
    return engine


_JSON = msgspec.json.Encoder()


def json_text(value: Any) -> str:
    """A JSON column's document as text, by msgspec rather than the standard library: every
    match writes a decision snapshot of three documents (its weights, inputs and ranked
    result) and every audit event its detail, and msgspec writes them about six times as
    fast. The documents read back the same (the text is only more compact); values the
    standard library refuses (a UUID, a date) are written as their text."""
    return _JSON.encode(value).decode()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the schema up to `revision`. Safe to run on every start: a no-op when current."""
    ensure_sqlite_dir(database_url)
    command.upgrade(alembic_config(database_url), revision)


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the scripts (they form one line).

    Cached: the scripts do not change while a process runs, and reading them executes
    every migration module.
    """
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, from `alembic_version`; None before any migration.

    Only reads: commands that use the schema without changing it compare this with
    `head_revision()` instead of migrating as a side effect.
    """
    return MigrationContext.configure(connection).get_current_revision()
