"""The SQLite engine's safety settings, against a real database file."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from placement.db import engine_options, install_sqlite_pragmas

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
