"""When the database stops, freezes or locks, the service says 503 and recovers by itself.

The PostgreSQL tests run the real service (`placement serve`, its own process) over a
private cluster that they stop (`pg_ctl stop -m immediate`) and freeze (SIGSTOP to every
process of the cluster) under it; the shared test server is never touched. No test reads
a clock: the client waits up to CLIENT_TIMEOUT, far longer than the service's own
timeouts, so a 503 from a frozen database can only come from those timeouts firing, and
a service that hangs instead fails by the client's timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from load_tests.outage import READ, WRITE, Cluster, Service, private_cluster, served, service_env
from placement import housekeeping
from placement.cli import issue_key
from placement.config import DatabaseTimeouts, Settings
from placement.db import create_engine, engine_options
from placement.enums import Role
from placement.faults import dropped, retry_once_if_dropped, unavailable
from tests.conftest import (
    API,
    POSTGRES_URL,
    PROBLEM_JSON,
    app_client,
    fresh_database,
    settings_for,
)

CLIENT_TIMEOUT = 30.0
"""Far beyond the service's own bounds (2 s to connect, 4.5 s for a statement)."""
SAFETY_SECONDS = 60.0
"""Only so that a broken run ends."""


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 problem document that says, in words, to come back, and when."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["cache-control"] == "no-store"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["title"] == "Service unavailable"
    assert "try again" in problem["detail"]


def assert_unreachable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "degraded", "database": "unreachable"}
    assert int(response.headers["retry-after"]) > 0


def assert_serving(service: Service) -> None:
    """Reads, writes and /health all answer, from the same server process as before."""
    read = service.get(READ, CLIENT_TIMEOUT)
    assert read.status_code == 200, read.text
    write = service.post(WRITE, {"name": "After The Outage", "specialisms": []}, CLIENT_TIMEOUT)
    assert write.status_code == 201, write.text
    health = service.health(CLIENT_TIMEOUT)
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "database": "reachable"}
    assert service.process.poll() is None, service.tail()


# -- PostgreSQL stopped, restarted, frozen under the running service ---------------------


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Service]]:
    """A private cluster and the real service over it (one per module: ~3 s to start)."""
    if not POSTGRES_URL:
        pytest.skip("PLACEMENT_TEST_POSTGRES_URL is not set")
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        pytest.skip("PostgreSQL server binaries are not installed")
    with private_cluster() as cluster:
        env = service_env(cluster.url, tmp_path_factory.mktemp("outage") / "data")
        with served(env) as service:
            assert_serving(service)
            yield cluster, service


@pytest.fixture
def cluster(outage: tuple[Cluster, Service]) -> Iterator[Cluster]:
    """The cluster, left running for the next test whatever this one did to it."""
    yield outage[0]
    if not (outage[0].folder / "data" / "postmaster.pid").exists():
        outage[0].start()


@pytest.fixture
def service(outage: tuple[Cluster, Service]) -> Service:
    return outage[1]


def test_a_stopped_database_gets_503_then_the_service_recovers_by_itself(
    cluster: Cluster, service: Service
) -> None:
    cluster.stop()
    try:
        assert_unavailable(service.get(READ, CLIENT_TIMEOUT))
        body = {"name": "During The Outage", "specialisms": []}
        assert_unavailable(service.post(WRITE, body, CLIENT_TIMEOUT))
        assert_unreachable(service.health(CLIENT_TIMEOUT))
    finally:
        cluster.start()
    assert_serving(service)
    names = [p["name"] for p in service.get("/api/v1/providers?limit=500", 30).json()["items"]]
    assert "During The Outage" not in names


def test_a_frozen_database_gets_503_in_time_then_the_service_recovers_by_itself(
    cluster: Cluster, service: Service
) -> None:
    assert_serving(service)  # pooled connections, now to a server that will not answer
    cluster.freeze()
    try:
        assert_unavailable(service.get(READ, CLIENT_TIMEOUT))  # a pooled connection hangs
        assert_unavailable(service.get(READ, CLIENT_TIMEOUT))  # a new one cannot connect
        body = {"name": "Frozen Out", "specialisms": []}
        assert_unavailable(service.post(WRITE, body, CLIENT_TIMEOUT))
        assert_unreachable(service.health(CLIENT_TIMEOUT))
    finally:
        cluster.thaw()
    assert_serving(service)


def test_a_database_restart_between_requests_fails_none_of_them(
    cluster: Cluster, service: Service
) -> None:
    """Every pooled connection dies with the restart; none is handed to a request."""
    assert_serving(service)
    cluster.stop()
    cluster.start()
    assert_serving(service)


# -- SQLite: a write lock held beyond the busy timeout ------------------------------------


@pytest.fixture
def sqlite_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A fresh SQLite database whose writers wait only briefly for the write lock."""
    with fresh_database("sqlite", tmp_path, request) as url:
        yield dataclasses.replace(
            settings_for(url, tmp_path), database_timeouts=DatabaseTimeouts(sqlite_busy=0.2)
        )


def test_a_sqlite_write_lock_held_past_the_busy_timeout_gets_503(
    sqlite_settings: Settings,
) -> None:
    key = asyncio.run(issue_key(sqlite_settings, Role.ADMIN, "test admin"))
    headers = {"Authorization": f"Bearer {key}"}
    path = sqlite_settings.database_url.removeprefix("sqlite+aiosqlite:///")
    taken, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:  # another process's writer, as far as SQLite knows
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            taken.set()
            release.wait(SAFETY_SECONDS)
            holder.execute("ROLLBACK")
        finally:
            holder.close()

    with app_client(sqlite_settings) as client:
        assert client.get(f"{API}/providers", headers=headers).status_code == 200
        holder = threading.Thread(target=hold_write_lock)
        holder.start()
        try:
            assert taken.wait(SAFETY_SECONDS)
            body = {"name": "Locked Out", "specialisms": []}
            response = client.post(f"{API}/providers", json=body, headers=headers)
            reads = client.get(f"{API}/providers", headers=headers)
        finally:
            release.set()
            holder.join()
        assert_unavailable(response)
        assert reads.status_code == 200  # readers are not blocked by a writer (WAL)
        again = client.post(f"{API}/providers", json=body, headers=headers)
        assert again.status_code == 201, again.text


# -- the parts, against real databases ----------------------------------------------------


@pytest.fixture
def postgres_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """A fresh database on the shared test server (these tests stop nothing)."""
    if not POSTGRES_URL:
        pytest.skip("PLACEMENT_TEST_POSTGRES_URL is not set")
    with fresh_database("postgresql", tmp_path, request) as url:
        yield settings_for(url, tmp_path)


def test_postgres_statements_are_bounded_on_the_server_and_the_client(
    postgres_settings: Settings,
) -> None:
    """A statement past the timeout is cancelled by the server and counts as an outage;
    the connection is still good afterwards."""
    quick = dataclasses.replace(
        postgres_settings, database_timeouts=DatabaseTimeouts(statement=0.2)
    )

    async def run() -> tuple[str, BaseException, int]:
        engine = create_engine(quick, connections=1)
        try:
            async with engine.connect() as conn:
                shown = str(await conn.scalar(text("SHOW statement_timeout")))
                try:
                    await conn.execute(text("SELECT pg_sleep(30)"))
                except DBAPIError as error:
                    cancelled: BaseException = error
                await conn.rollback()
                after = int(await conn.scalar(text("SELECT 1")) or 0)
            return shown, cancelled, after
        finally:
            await engine.dispose()

    shown, cancelled, after = asyncio.run(run())
    assert shown == "200ms"
    assert unavailable(cancelled) and not dropped(cancelled)
    assert after == 1
    client_side = engine_options(quick.database_url, quick.database_timeouts)["connect_args"]
    assert client_side["command_timeout"] > 0.2  # the server's cancel comes first


def test_work_whose_connection_is_dropped_under_it_is_tried_once_more(
    postgres_settings: Settings,
) -> None:
    attempts: list[int] = []

    async def run() -> int:
        engine = create_engine(postgres_settings)
        sessions = async_sessionmaker(engine)

        async def work() -> int:
            attempts.append(len(attempts))
            async with sessions() as session:
                if len(attempts) == 1:  # the server drops this connection mid-statement
                    await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
                return int(await session.scalar(text("SELECT 41 + 1")) or 0)

        try:
            return await retry_once_if_dropped(work)
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == 42
    assert attempts == [0, 1]


def test_other_database_errors_are_not_retried_or_called_an_outage(
    migrated_settings: Settings,
) -> None:
    attempts: list[int] = []

    async def run() -> None:
        engine = create_engine(migrated_settings)
        sessions = async_sessionmaker(engine)

        async def work() -> None:
            attempts.append(1)
            async with sessions() as session:
                await session.execute(text("SELECT * FROM no_such_table"))

        try:
            await retry_once_if_dropped(work)
        finally:
            await engine.dispose()

    with pytest.raises(DBAPIError) as raised:
        asyncio.run(run())
    assert attempts == [1]
    assert not unavailable(raised.value)


def test_housekeeping_outlives_an_unreachable_database_backing_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each failed sweep is logged as one warning (no traceback) and waits longer, up to
    the sweep interval; the loop goes on. Its sleeps are recorded, not slept."""
    waits: list[float] = []

    async def record(seconds: float, *_: Any) -> None:
        waits.append(seconds)
        if len(waits) == 7:
            raise asyncio.CancelledError

    async def run() -> None:
        engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
        monkeypatch.setattr(housekeeping.asyncio, "sleep", record)
        try:
            await housekeeping.run_forever(async_sessionmaker(engine), every=10.0)
        finally:
            monkeypatch.undo()
            await engine.dispose()

    with (
        caplog.at_level(logging.WARNING, logger=housekeeping.__name__),
        pytest.raises(asyncio.CancelledError),
    ):
        asyncio.run(run())
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    records = [r for r in caplog.records if r.name == housekeeping.__name__]
    assert len(records) == 7
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in records)
    assert "unavailable" in records[0].getMessage()
