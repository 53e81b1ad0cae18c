"""The SQLite engine's safety settings, against a real database file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from placement.config import Settings
from placement.db import create_engine, engine_options, install_sqlite_pragmas, json_text
from placement.models import IdempotencyRecord

ROOT = Path(__file__).resolve().parents[1]


def test_a_failed_statement_cannot_freeze_the_event_loop_while_a_write_waits(
    tmp_path: Path,
) -> None:
    """A statement fails, then the same connection waits for the write lock. Collecting
    the failed statement's cursor on the event loop must not wait with it.

    The probe (`tests.sqlite_freeze`, in a fresh process) releases the lock only after
    `gc.collect()` returns on the loop. If collecting waited for the waiting connection,
    it could return only when that connection gave up (its busy timeout: the INSERT
    fails, "database is locked") or the holder did (its safety timeout): either way the
    outcome, not a clock, shows it.
    """
    probe = [sys.executable, "-m", "tests.sqlite_freeze", str(tmp_path / "lock.db")]
    ran = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert outcome["busy_timeout_ms"] >= 10_000, "the waiting INSERT must be able to wait"
    assert outcome["failed_first"] and outcome["taken"] and outcome["stepping"]
    assert outcome["released"], "gc.collect() kept the write lock held past its safety timeout"
    assert outcome["insert"] == "done", "gc.collect() froze the loop until the INSERT gave up"
    assert outcome["rows"] == [1, 2]


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


def test_a_sqlite_statement_is_one_hop_to_its_connection_s_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement, whatever it returns, is one call queued to the connection's thread
    (the stock adapter made three or four), and SQLAlchemy gets what it got before: rows,
    rowcounts, the last row id, many rows inserted at once, a failure as the DBAPI's."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}"
    hops: list[str] = []
    queue = aiosqlite.Connection._execute

    async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await queue(connection, fn, *args, **kw)

    async def run() -> dict[str, Any]:
        try:
            return await statements()
        finally:
            await engine.dispose()

    async def statements() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

            def step(name: str, result: Any) -> None:
                seen[name] = (result, len(hops))
                hops.clear()

            inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            step("insert", (inserted.rowcount, inserted.lastrowid))
            many = await conn.execute(
                text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
            )
            step("insert many", many.rowcount)
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            step("update", updated.rowcount)
            returned = await conn.execute(
                text("UPDATE t SET name = 'z' WHERE id = 3 RETURNING id, name")
            )
            step("update returning", [tuple(row) for row in returned])
            rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
            step("select", [tuple(row) for row in rows])
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (id, name) VALUES (1, 'again')"))
            step("failed", None)
            await conn.rollback()
        return seen

    engine = create_async_engine(url, **engine_options(url))
    install_sqlite_pragmas(engine)
    assert asyncio.run(run()) == {
        "insert": ((1, 1), 1),
        "insert many": (2, 1),
        "update": (2, 1),
        "update returning": ([(3, "z")], 1),
        "select": ([(1, "a"), (2, "b!"), (3, "z")], 1),
        "failed": (None, 1),
    }


def test_json_columns_are_written_compact_and_read_back_as_sent(
    migrated_settings: Settings,
) -> None:
    """The service's engine writes JSON documents with msgspec (`json_text`): the stored
    text is compact (the standard library would put a space after every separator; a
    plain JSON column keeps the text as sent on PostgreSQL too), and a document reads
    back equal, floats to the last digit and text beyond ASCII included."""
    document = {"score": 0.1 + 0.2, "parts": {"cost": -1.5e-7}, "name": "Zoë's", "n": [1, 2]}
    record_id = str(uuid.uuid4())

    async def run() -> tuple[Any, str]:
        engine = create_engine(migrated_settings)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(IdempotencyRecord),
                    {
                        "api_key_id": uuid.uuid4(),
                        "key": record_id,
                        "request_hash": "h",
                        "record_type": "test",
                        "record_id": record_id,
                        "status_code": 201,
                        "response": document,
                        "created_at": datetime.now(UTC),
                    },
                )
            async with engine.connect() as conn:
                read = await conn.scalar(
                    select(IdempotencyRecord.response).where(IdempotencyRecord.key == record_id)
                )
                raw = await conn.scalar(
                    text("SELECT CAST(response AS TEXT) FROM idempotency_records WHERE key = :k"),
                    {"k": record_id},
                )
            return read, str(raw)
        finally:
            await engine.dispose()

    read, raw = asyncio.run(run())
    assert read == document
    assert raw == json_text(document)
