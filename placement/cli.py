"""The `placement` command: serve, migrate, seed and manage keys.

Every command reads its settings from the environment (see `placement.config`), so
several instances can run side by side with different PLACEMENT_DATA_DIRs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.config import Settings
from placement.crypto import new_secret_key
from placement.db import create_engine, migrate
from placement.enums import Role
from placement.errors import DomainError
from placement.models import ApiKey
from placement.security import SYSTEM, create_api_key

T = TypeVar("T")
DEV_KEY_FILE = "dev-admin.key"
SCALES = ("demo", "region", "national")


def _run(make: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc


@click.group()
def main() -> None:
    """Safe-accommodation placement service."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (Alembic); a no-op when it already is."""
    settings = Settings.from_env()
    migrate(settings.database_url)
    click.echo(f"database at {_safe_url(settings)} is up to date", err=True)


@main.command()
@click.option(
    "--scale",
    type=click.Choice(SCALES),
    default="demo",
    show_default=True,
    help="demo: Greater Manchester; region: North West and West Midlands; "
    "national: all of England (about 10,000 units)",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=1,
    show_default=True,
    help="random seed; the same seed gives the same data",
)
def seed(scale: str, seed_value: int) -> None:
    """Load realistic synthetic data on real English geography (migrates first)."""
    from fixtures.seeding import seed_database

    settings = Settings.from_env()
    migrate(settings.database_url)
    report = asyncio.run(seed_database(settings, scale, seed_value))
    click.echo(str(report), err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="worker processes (they share the database, nothing else)",
)
@click.option(
    "--demo",
    is_flag=True,
    help="on an empty database, load the demo data and create a dev admin key",
)
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Apply migrations, then serve the API (OpenAPI docs at /schema)."""
    import uvicorn

    settings = Settings.from_env()
    migrate(settings.database_url)
    if demo:
        _prepare_demo(settings)
    click.echo(f"serving on http://{host}:{port} (docs: http://{host}:{port}/schema)", err=True)
    uvicorn.run("api.asgi:app", host=host, port=port, workers=workers, log_level="info")


def _prepare_demo(settings: Settings) -> None:
    from fixtures.seeding import seed_database

    click.echo(str(asyncio.run(seed_database(settings, "demo", 1))), err=True)
    key_file = settings.data_dir / DEV_KEY_FILE
    if _run(lambda: _count_keys(settings)) == 0:
        key = _run(lambda: issue_key(settings, Role.ADMIN, "dev admin (generated)"))
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        click.echo(
            f"Generated a development admin key (also saved, owner-only, in "
            f"{key_file}):\n\n    {key}\n",
            err=True,
        )
    elif key_file.exists():
        click.echo(f"Development admin key: see {key_file}", err=True)


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--authority", "authority_code", help="ONS code (housing_officer, integration, commissioner)"
)
@click.option("--provider", "provider_id", type=click.UUID, help="provider id (provider)")
@click.option("--region", help="region or group name, e.g. 'Greater Manchester' (commissioner)")
@click.option("--name", default=None, help="a label for the key (who holds it)")
def create_key(
    role: str,
    authority_code: str | None,
    provider_id: uuid.UUID | None,
    region: str | None,
    name: str | None,
) -> None:
    """Issue a key; prints the key alone on standard output, so scripts can capture it."""
    settings = Settings.from_env()
    migrate(settings.database_url)
    label = name or f"{role} key"
    key = _run(lambda: issue_key(settings, Role(role), label, authority_code, provider_id, region))
    click.echo(key)


@keys.command("secret")
def new_secret() -> None:
    """Print a new encryption key for PLACEMENT_SECRET_KEY."""
    click.echo(new_secret_key())


async def issue_key(
    settings: Settings,
    role: Role,
    name: str,
    authority_code: str | None = None,
    provider_id: uuid.UUID | None = None,
    region: str | None = None,
) -> str:
    """Create a key in its own transaction (with its audit event); returns the plaintext."""
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine) as session, session.begin():
            row, key = await create_api_key(
                session,
                role=role,
                name=name,
                authority_code=authority_code,
                provider_id=provider_id,
                region=region,
            )
            audit.record(session, SYSTEM, "create", "api_key", row.id, role=str(role))
        return key
    finally:
        await engine.dispose()


async def _count_keys(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(ApiKey)) or 0)
    finally:
        await engine.dispose()


def _safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)
