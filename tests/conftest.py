"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured), the real app.

Set PLACEMENT_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:55432/postgres, a
role that may create databases) to run every database test on PostgreSQL as well; CI
always does. Each test gets a fresh database cloned from a migrated template, so tests
are isolated and the migrations are exercised on both backends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from cryptography.fernet import Fernet
from litestar.testing import TestClient
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from api.app import create_app
from placement import audit
from placement.cli import issue_key
from placement.config import Settings, normalise_database_url
from placement.db import create_engine, install_sqlite_pragmas, migrate
from placement.enums import Role
from placement.security import SYSTEM, create_api_key
from tests.app_logging import log_thread_ended

POSTGRES_URL = os.environ.get("PLACEMENT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
TEST_SECRET = Fernet.generate_key().decode()
PG_TEMPLATE = f"placement_template_{os.getpid()}"


def _pg_admin_dsn() -> str:
    assert POSTGRES_URL
    url = make_url(normalise_database_url(POSTGRES_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_database_url(name: str) -> str:
    assert POSTGRES_URL
    url = make_url(normalise_database_url(POSTGRES_URL)).set(database=name)
    return url.render_as_string(hide_password=False)


async def _pg_execute(*statements: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("PLACEMENT_TEST_POSTGRES_URL is not set")
    asyncio.run(
        _pg_execute(f"DROP DATABASE IF EXISTS {PG_TEMPLATE}", f"CREATE DATABASE {PG_TEMPLATE}")
    )
    migrate(_pg_database_url(PG_TEMPLATE))
    yield PG_TEMPLATE
    asyncio.run(_pg_execute(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)"))


class PgCopies:
    """Fresh copies of the migrated PostgreSQL template, each made before it is asked for.

    `CREATE DATABASE ... TEMPLATE` keeps the server busy for the better part of a second
    (it copies every page of the template), and dropping one for a fraction more. Made in
    a thread of their own while the test before runs, and dropped there after, each test
    still gets a copy of its own that nothing else has touched, but waits for neither.
    """

    AHEAD = 1

    def __init__(self, template: str) -> None:
        self._template = template
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-copies")
        self._made: deque[Future[str]] = deque()
        self._drops: list[Future[None]] = []
        self._fill()

    def _create(self) -> str:
        name = f"placement_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_execute(f"CREATE DATABASE {name} TEMPLATE {self._template}"))
        return name

    @staticmethod
    def _drop(name: str) -> None:
        asyncio.run(_pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def _fill(self) -> None:
        while len(self._made) < self.AHEAD:
            self._made.append(self._work.submit(self._create))

    def take(self) -> str:
        """A fresh copy, the caller's alone: give it back with `drop`."""
        name = self._made.popleft().result()
        self._fill()
        return name

    def drop(self, name: str) -> None:
        self._drops.append(self._work.submit(self._drop, name))

    def close(self) -> None:
        """Drop the copies made ahead, and wait for every drop (raising what failed)."""
        for made in self._made:
            self.drop(made.result())
        self._work.shutdown(wait=True)
        for dropped in self._drops:
            dropped.result()


@pytest.fixture(scope="session")
def postgres_copies(postgres_template: str) -> Iterator[PgCopies]:
    copies = PgCopies(postgres_template)
    yield copies
    copies.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def fresh_database(backend: str, directory: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database of the given backend, cloned from the template."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = directory / "placement.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    copies: PgCopies = request.getfixturevalue("postgres_copies")
    name = copies.take()
    try:
        yield _pg_database_url(name)
    finally:
        copies.drop(name)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database of the given backend."""
    with fresh_database(backend, tmp_path, request) as url:
        yield url


def settings_for(database_url: str, directory: Path) -> Settings:
    return Settings(
        data_dir=directory / "data",
        database_url=normalise_database_url(database_url),
        secret_key=TEST_SECRET,
        rate_limit_per_minute=100_000,
        unknown_key_rate_limit_per_minute=100_000,
    )


@pytest.fixture
def migrated_settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@contextmanager
def app_client(settings: Settings) -> Iterator[TestClient[Any]]:
    """A TestClient over a fresh app; its engine is disposed on the app's own event loop.

    (advanced-alchemy renames the state keys of every app after the first in a process,
    and then does not dispose the engine at shutdown; without this, each test would leak
    its pooled connections to be finalised later on a closed loop.)
    """
    app = create_app(settings)
    with log_thread_ended(), TestClient(app) as test_client:
        try:
            yield test_client
        finally:
            test_client.blocking_portal.call(app.state.sessions.kw["bind"].dispose)


@pytest.fixture
def client(migrated_settings: Settings) -> Iterator[TestClient[Any]]:
    with app_client(migrated_settings) as test_client:
        yield test_client


@dataclass
class Actors:
    """Keys for each role and scope, and ids of the records they are scoped to."""

    client: TestClient[Any]
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)
    provider_a: str = ""
    provider_b: str = ""

    def headers(self, who: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", **(extra or {})}

    def get(self, who: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(who, headers), **kw)

    def post(
        self,
        who: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        return self.client.post(path, json=body, headers=self.headers(who, headers), **kw)

    def patch(
        self,
        who: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        return self.client.patch(path, json=body, headers=self.headers(who, headers), **kw)

    def delete(self, who: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers(who, headers), **kw)

    def new_key(self, role: Role, **scope: Any) -> str:
        return asyncio.run(issue_key(self.settings, role, f"test {role}", **scope))

    def new_keys(self, wanted: dict[str, tuple[Role, dict[str, Any]]]) -> None:
        """Keys for several actors (name: role and scope) in one transaction, as
        `new_key` makes each: one engine and schema check for all, not one per key."""

        async def issue() -> dict[str, str]:
            engine = create_engine(self.settings)
            try:
                async with AsyncSession(engine, expire_on_commit=False) as db, db.begin():
                    made = {}
                    for who, (role, scope) in wanted.items():
                        row, made[who] = await create_api_key(
                            db, role=role, name=f"test {role}", **scope
                        )
                        audit.record(db, SYSTEM, "create", "api_key", row.id, role=str(role))
                    return made
            finally:
                await engine.dispose()

        self.keys.update(asyncio.run(issue()))


# Real authorities used throughout the tests.
MANCHESTER = ("E08000003", "Manchester", "North West", "Greater Manchester", 53.4794, -2.2453)
STOCKPORT = ("E08000007", "Stockport", "North West", "Greater Manchester", 53.4083, -2.1494)
WESTMINSTER = ("E09000033", "Westminster", "London", "Greater London", 51.4975, -0.1357)
CAMDEN = ("E09000007", "Camden", "London", "Greater London", 51.5290, -0.1255)
AUTHORITIES = (MANCHESTER, STOCKPORT, WESTMINSTER, CAMDEN)


@pytest.fixture
def actors(client: TestClient[Any], migrated_settings: Settings) -> Actors:
    """A registry with four authorities, two providers and a key for every role and scope."""
    return populate(client, migrated_settings)


def populate(client: TestClient[Any], settings: Settings) -> Actors:
    """Register the four authorities and two providers, and issue a key for every actor."""
    world = Actors(client=client, settings=settings)
    world.keys["admin"] = world.new_key(Role.ADMIN)
    for code, name, region, group, lat, lon in AUTHORITIES:
        response = world.post(
            "admin",
            "/api/v1/authorities",
            {
                "code": code,
                "name": name,
                "region": region,
                "group_name": group,
                "latitude": lat,
                "longitude": lon,
            },
        )
        assert response.status_code == 201, response.text
    world.provider_a = world.post(
        "admin", "/api/v1/providers", {"name": "Northern Refuges", "specialisms": ["by_and_for"]}
    ).json()["id"]
    world.provider_b = world.post(
        "admin", "/api/v1/providers", {"name": "Southern Safe Homes", "specialisms": []}
    ).json()["id"]
    world.new_keys(
        {
            "provider_a": (Role.PROVIDER, {"provider_id": uuid.UUID(world.provider_a)}),
            "provider_b": (Role.PROVIDER, {"provider_id": uuid.UUID(world.provider_b)}),
            "officer": (Role.HOUSING_OFFICER, {"authority_code": MANCHESTER[0]}),
            "integration": (Role.INTEGRATION, {"authority_code": STOCKPORT[0]}),
            "commissioner": (Role.COMMISSIONER, {"region": "Greater Manchester"}),
        }
    )
    return world


def scheme_body(provider_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid scheme in Manchester (M14, Fallowfield); override what a test varies."""
    body: dict[str, Any] = {
        "provider_id": provider_id,
        "authority_code": MANCHESTER[0],
        "name": "Fallowfield House",
        "scheme_type": "refuge",
        "address": "12 Example Road, Fallowfield, Manchester",
        "postcode": "M14 6AB",
        "latitude": 53.4440,
        "longitude": -2.2190,
        "gender_policy": "women_only",
        "max_risk_level": "high",
        "max_boy_age": 14,
        "accepts_nrpf": True,
        "languages": ["ur", "pa"],
        "support": ["mental_health"],
        "weekly_cost": 520.0,
    }
    return body | overrides


def unit_body(scheme_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scheme_id": scheme_id,
        "label": "Room 1",
        "bedrooms": 2,
        "bed_spaces": 3,
        "cots": 1,
        "access_features": ["step_free"],
        "status": "available",
    }
    return body | overrides


@pytest.fixture
def scheme_a(actors: Actors) -> dict[str, Any]:
    response = actors.post("provider_a", "/api/v1/schemes", scheme_body(actors.provider_a))
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def unit_a(actors: Actors, scheme_a: dict[str, Any]) -> dict[str, Any]:
    response = actors.post("provider_a", "/api/v1/units", unit_body(scheme_a["id"]))
    assert response.status_code == 201, response.text
    return dict(response.json())


# ---------------------------------------------------------------------------------------
# Helpers for the API, CLI and migration tests.

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
T = TypeVar("T")


def protocol_body(**overrides: Any) -> dict[str, Any]:
    """A valid Greater Manchester group protocol between Manchester and Stockport."""
    body: dict[str, Any] = {
        "name": "GM cross-border protocol",
        "kind": "group",
        "funding": "placing_authority",
        "members": [MANCHESTER[0], STOCKPORT[0]],
        "starts_on": "2025-04-01",
        "ends_on": None,
        "notice_days": 2,
        "balance_cap": 5,
        "balance_period_days": 365,
    }
    return body | overrides


def rehousing_body(**overrides: Any) -> dict[str, Any]:
    """A valid perpetrator-rehousing option in Manchester (M13, Ardwick)."""
    body: dict[str, Any] = {
        "authority_code": MANCHESTER[0],
        "name": "Ardwick Lodge",
        "address": "3 Sample Street, Ardwick, Manchester",
        "postcode": "M13 9PL",
        "latitude": 53.4668,
        "longitude": -2.2339,
        "max_risk_level": "medium",
        "accepts_conditions": ["dvpo", "bail"],
        "bed_spaces": 1,
        "weekly_cost": 180.0,
    }
    return body | overrides


@pytest.fixture
def protocol_gm(actors: Actors) -> dict[str, Any]:
    response = actors.post("admin", f"{API}/protocols", protocol_body())
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def option_a(actors: Actors) -> dict[str, Any]:
    """A rehousing option registered by provider A (so owned by it)."""
    response = actors.post("provider_a", f"{API}/rehousing-options", rehousing_body())
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem of the given status; when `field` is given, an error names it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["type"] and "detail" in problem
    if field is not None:
        fields = [error["field"] for error in problem.get("errors", [])]
        assert field in fields, (field, problem)
        assert field in problem["detail"], problem
    return problem


def audit_events(actors: Actors, **filters: Any) -> list[dict[str, Any]]:
    """Audit events (newest first) matching the filters, read as the admin."""
    response = actors.get("admin", f"{API}/audit", params={"limit": 500, **filters})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def audit_total(actors: Actors) -> int:
    response = actors.get("admin", f"{API}/audit", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


COLLECTIONS = (
    "authorities",
    "providers",
    "schemes",
    "units",
    "protocols",
    "rehousing-options",
    "keys",
)


def registry_counts(actors: Actors) -> dict[str, int]:
    """How many records of each kind exist (retired included), and how many audit events."""
    counts = {}
    for name in COLLECTIONS:
        params = {"limit": 1} if name == "keys" else {"limit": 1, "include_retired": True}
        response = actors.get("admin", f"{API}/{name}", params=params)
        assert response.status_code == 200, response.text
        counts[name] = int(response.json()["total"])
    counts["audit"] = audit_total(actors)
    return counts


def list_all(actors: Actors, who: str, path: str, **params: Any) -> dict[str, Any]:
    response = actors.get(who, path, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def assert_paginates(actors: Actors, who: str, path: str, expected_total: int) -> None:
    """Walking the list two at a time gives every row once, in the full listing's order."""
    full = list_all(actors, who, path)
    assert full["total"] == expected_total == len(full["items"])
    ids = [item.get("id", item.get("code")) for item in full["items"]]
    walked: list[Any] = []
    for offset in range(0, expected_total + 2, 2):
        response = actors.get(who, path, params={"limit": 2, "offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        assert (page["total"], page["limit"], page["offset"]) == (expected_total, 2, offset)
        assert len(page["items"]) == max(0, min(2, expected_total - offset))
        walked.extend(item.get("id", item.get("code")) for item in page["items"])
    assert walked == ids


def with_connection(url: str, work: Callable[[Connection], T], *, commit: bool = False) -> T:
    """Run `work` on a raw connection to the database at `url` (SQLAlchemy Core)."""

    async def run() -> T:
        engine = create_async_engine(url, poolclass=NullPool)
        install_sqlite_pragmas(engine)
        try:
            async with engine.connect() as conn:
                result = await conn.run_sync(work)
                if commit:
                    await conn.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no schema at all, of the given backend."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PLACEMENT_TEST_POSTGRES_URL is not set")
    name = f"placement_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f"CREATE DATABASE {name}"))
    yield _pg_database_url(name)
    asyncio.run(_pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="module", params=BACKENDS)
def shared_actors(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Actors]:
    """Like `actors`, but one registry per test module and backend.

    For tests that either write nothing (and check so) or act only on records they create
    themselves, so that the order they run in does not matter. Much faster than a fresh
    database and app per test.
    """
    directory = tmp_path_factory.mktemp("shared")
    with fresh_database(str(request.param), directory, request) as url:
        settings = settings_for(url, directory)
        with app_client(settings) as client:
            yield populate(client, settings)
