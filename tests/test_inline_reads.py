"""`placement.inline_reads`: a SQLite file's hot reads are made on the event loop's
thread, by a connection that cannot write and never waits; a read it cannot make at
once is made on the async engine's pool instead. Hops to aiosqlite's threads are
counted at the driver, as the match's statement-count test counts them."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from advanced_alchemy.types import GUID
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Enum,
    LargeBinary,
    MetaData,
    Table,
    bindparam,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from placement.db import engine_options, install_sqlite_pragmas
from placement.enums import RiskLevel
from placement.faults import unavailable
from placement.inline_reads import InlineReads

READ = text("SELECT x, label FROM t WHERE x = :x")


def engine_on(url: str) -> AsyncEngine:
    """An engine as the service makes one: the service's dialect, pool and pragmas."""
    engine = create_async_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    return engine


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A WAL-mode SQLite file with one row, as the service's engine leaves it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"

    async def prepare() -> None:
        engine = engine_on(url)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY, label TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES (1, 'one')"))
        await engine.dispose()

    asyncio.run(prepare())
    yield url


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions sent to an aiosqlite connection's thread."""
    made: list[str] = []
    queue_call = aiosqlite.Connection._execute

    async def counted(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", "?"))
        return await queue_call(connection, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def read(url: str, reads: InlineReads, statement: Any = READ, **parameters: Any) -> Any:
    engine = engine_on(url)
    try:
        async with AsyncSession(engine) as session:
            return await reads.first(session, statement, parameters or {"x": 1})
    finally:
        await engine.dispose()
        reads.dispose()


def test_a_read_of_a_sqlite_file_is_made_without_a_hop(database: str, hops: list[str]) -> None:
    reads = InlineReads(database)
    assert reads.inline
    row = asyncio.run(read(database, reads))
    assert tuple(row) == (1, "one")
    assert hops == []


TYPED = Table(
    "typed",
    MetaData(),
    Column("id", GUID, primary_key=True),
    Column("risk", Enum(RiskLevel)),
    Column("on", Date),
    Column("flag", Boolean),
    Column("blob", LargeBinary),
)
TYPED_READ = select(TYPED, (TYPED.c.risk == RiskLevel.HIGH).label("high")).where(
    TYPED.c.id == bindparam("id")
)


def test_a_read_gives_the_columns_python_types_as_the_engine_does(
    database: str, hops: list[str]
) -> None:
    """Values pass through the column types' own processors both ways (a UUID stored as
    16 bytes, an enum by name, a date as text, a boolean as 0 or 1), and the statement's
    own values (`RiskLevel.HIGH`) are bound too: the same row as the engine's read."""
    key = uuid.uuid4()
    row = {"id": key, "risk": RiskLevel.HIGH, "on": date(2026, 3, 1), "flag": True, "blob": b"x"}

    async def through_the_engine() -> Any:
        engine = engine_on(database)
        async with engine.begin() as connection:
            await connection.run_sync(TYPED.metadata.create_all)
            await connection.execute(TYPED.insert().values(row))
            found = (await connection.execute(TYPED_READ, {"id": key})).first()
        await engine.dispose()
        return found

    expected = asyncio.run(through_the_engine())
    hops.clear()
    inline = asyncio.run(read(database, InlineReads(database), TYPED_READ, id=key))
    assert tuple(inline) == tuple(expected) == (*row.values(), True)
    assert inline.on == date(2026, 3, 1) and inline.high is True
    assert hops == []


def test_a_missing_row_is_none(database: str, hops: list[str]) -> None:
    assert asyncio.run(read(database, InlineReads(database), x=2)) is None
    assert hops == []


def test_the_inline_connection_cannot_write(database: str, hops: list[str]) -> None:
    """A write sent to it is refused and not passed on to a connection that could."""
    with pytest.raises(OperationalError, match="readonly"):
        asyncio.run(read(database, InlineReads(database), text("DELETE FROM t"), x=1))
    assert hops == []
    remaining = sqlite3.connect(database.removeprefix("sqlite+aiosqlite:///"))
    assert remaining.execute("SELECT count(*) FROM t").fetchone() == (1,)
    remaining.close()


def test_a_read_that_would_wait_is_made_on_the_pool(database: str, hops: list[str]) -> None:
    """Another connection holds the file exclusively: the inline read is refused at once
    (it has no busy timeout), and the same read goes to the async engine's connection,
    whose thread finds the file free (the holder lets go as that hop starts)."""
    path = database.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE t SET label = 'uno' WHERE x = 1")
    probe = sqlite3.connect(path, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("SELECT x FROM t").fetchall()
    probe.close()

    queue_call = aiosqlite.Connection._execute
    let_go: list[str] = []

    async def letting_go_first(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not let_go:
            holder.execute("COMMIT")
            holder.close()
            let_go.append(getattr(fn, "__name__", "?"))
        return await queue_call(connection, fn, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aiosqlite.Connection, "_execute", letting_go_first)
        row = asyncio.run(read(database, InlineReads(database)))
    assert tuple(row) == (1, "uno")
    assert let_go  # the lock was held until a hop began: the pool's connection read it


def test_an_inline_session_reads_through_the_orm_without_a_hop(
    database: str, hops: list[str]
) -> None:
    """The sessions `InlineReads.session` gives run every statement on the calling
    thread: rows come back as the async engine's would, and no call goes to a thread."""
    reads = InlineReads(database)

    async def scenario() -> list[tuple[int, str]]:
        session = reads.session()
        assert session is not None
        try:
            async with session:
                first = (await session.execute(text("SELECT x, label FROM t"))).tuples().all()
            async with reads.session() as again:  # type: ignore[union-attr]
                second = (await again.execute(text("SELECT x, label FROM t"))).tuples().all()
            assert first == second
            return list(first)
        finally:
            reads.dispose()

    assert asyncio.run(scenario()) == [(1, "one")]
    assert hops == []


def test_an_inline_session_cannot_write(database: str) -> None:
    reads = InlineReads(database)

    async def scenario() -> None:
        try:
            async with reads.session() as session:  # type: ignore[union-attr]
                await session.execute(text("DELETE FROM t"))
                await session.commit()
        finally:
            reads.dispose()

    with pytest.raises(OperationalError, match="readonly"):
        asyncio.run(scenario())
    assert asyncio.run(read(database, InlineReads(database))) is not None


def test_an_inline_session_that_would_wait_fails_at_once(database: str) -> None:
    """It has no busy timeout: the caller is told (SQLite's busy error), and reads the
    usual way instead (as `MatchService` does when the index catches up)."""
    path = database.removeprefix("sqlite+aiosqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE t SET label = 'uno' WHERE x = 1")
    reads = InlineReads(database)

    async def scenario() -> None:
        try:
            async with reads.session() as session:  # type: ignore[union-attr]
                await session.execute(text("SELECT x FROM t"))
        finally:
            reads.dispose()

    with pytest.raises(OperationalError) as refused:
        asyncio.run(scenario())
    assert unavailable(refused.value)
    holder.execute("COMMIT")
    holder.close()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://placement@127.0.0.1:5432/placement",
    ],
)
def test_only_sqlite_files_are_read_inline(url: str) -> None:
    """An in-memory database is not shared between engines; PostgreSQL's driver has no
    thread to hop to."""
    assert not InlineReads(url).inline
    assert not InlineReads().inline
    assert InlineReads(url).session() is None
