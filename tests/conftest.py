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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography.fernet import Fernet
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from placement.cli import issue_key
from placement.config import Settings, normalise_database_url
from placement.db import migrate
from placement.enums import Role

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database of the given backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "placement.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"placement_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f"CREATE DATABASE {name} TEMPLATE {template_name}"))
    yield _pg_database_url(name)
    asyncio.run(_pg_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def migrated_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=normalise_database_url(database_url),
        secret_key=TEST_SECRET,
        rate_limit_per_minute=100_000,
    )


@pytest.fixture
def client(migrated_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(migrated_settings)) as test_client:
        yield test_client


@dataclass
class Actors:
    """Keys for each role and scope, and ids of the records they are scoped to."""

    client: TestClient[Any]
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)
    provider_a: str = ""
    provider_b: str = ""

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(who), **kw)

    def post(self, who: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers(who), **kw)

    def patch(self, who: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.patch(path, json=body, headers=self.headers(who), **kw)

    def delete(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers(who), **kw)

    def new_key(self, role: Role, **scope: Any) -> str:
        return asyncio.run(issue_key(self.settings, role, f"test {role}", **scope))


# Real authorities used throughout the tests.
MANCHESTER = ("E08000003", "Manchester", "North West", "Greater Manchester", 53.4794, -2.2453)
STOCKPORT = ("E08000007", "Stockport", "North West", "Greater Manchester", 53.4083, -2.1494)
WESTMINSTER = ("E09000033", "Westminster", "London", "Greater London", 51.4975, -0.1357)
CAMDEN = ("E09000007", "Camden", "London", "Greater London", 51.5290, -0.1255)
AUTHORITIES = (MANCHESTER, STOCKPORT, WESTMINSTER, CAMDEN)


@pytest.fixture
def actors(client: TestClient[Any], migrated_settings: Settings) -> Actors:
    """A registry with four authorities, two providers and a key for every role and scope."""
    world = Actors(client=client, settings=migrated_settings)
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
    world.keys["provider_a"] = world.new_key(Role.PROVIDER, provider_id=uuid.UUID(world.provider_a))
    world.keys["provider_b"] = world.new_key(Role.PROVIDER, provider_id=uuid.UUID(world.provider_b))
    world.keys["officer"] = world.new_key(Role.HOUSING_OFFICER, authority_code=MANCHESTER[0])
    world.keys["integration"] = world.new_key(Role.INTEGRATION, authority_code=STOCKPORT[0])
    world.keys["commissioner"] = world.new_key(Role.COMMISSIONER, region="Greater Manchester")
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
