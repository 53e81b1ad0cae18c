"""The `placement` command: serve, migrate, seed, manage keys, check the audit log, and
grant a PostgreSQL role the service's privileges.

Every command reads its settings from the environment (see `placement.config`), so
several instances can run side by side with different PLACEMENT_DATA_DIRs.

`placement --help` should answer at once, so this module imports only click and light
modules of ours at the top. SQLAlchemy, Alembic, the models, the synthetic data and the
web server are imported inside the commands that use them (the matcher only ever by the
app), and roles come from `placement.roles`, which imports nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from placement.config import Settings
from placement.errors import DomainError, NotFound
from placement.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from placement.audit_chain import Broken, Intact
    from placement.models import ApiKey

T = TypeVar("T")
DEV_KEY_FILE = "dev-admin.key"
SCALES = ("reference", "demo", "region", "national")
KEY_PAGE = 500


def _run(make: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(make())  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc


@click.group()
@click.version_option(
    package_name="safe-placement", prog_name="placement", message="%(prog)s %(version)s"
)
@click.option("-v", "--verbose", is_flag=True, help="log at INFO, e.g. each migration Alembic runs")
def main(verbose: bool) -> None:
    """Safe-accommodation placement service."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date (Alembic); a no-op when it already is."""
    from placement.db import head_revision, migrate

    settings = Settings.from_env()
    before = _run(lambda: _schema_revision(settings))
    migrate(settings.database_url)
    head = head_revision()
    change = "" if before == head else f", was {before or 'empty'}"
    click.echo(
        f"database at {_safe_url(settings)} is up to date (revision {head}{change})", err=True
    )


@main.command()
@click.option(
    "--scale",
    type=click.Choice(SCALES),
    default="demo",
    show_default=True,
    help="reference: the ONS list of English authorities only, no demo data; "
    "demo: Greater Manchester; region: North West and West Midlands; "
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
@click.option(
    "--history",
    "months",
    type=click.IntRange(1, 60),
    default=None,
    help="instead of a snapshot of today, seed the registry as of MONTHS months ago and "
    "record every month since through the services: referrals, offers, declines, "
    "placements, perpetrator moves, move-outs and closures",
    metavar="MONTHS",
)
def seed(scale: str, seed_value: int, months: int | None) -> None:
    """Load realistic synthetic data on real English geography (migrates first); with
    `--scale reference`, only the real authorities."""
    from placement.db import migrate

    settings = Settings.from_env()
    migrate(settings.database_url)
    if months is not None:
        if scale == "reference":
            raise click.UsageError("--history needs a scale with a registry, not reference")
        from fixtures.history import seed_history

        click.echo(str(asyncio.run(seed_history(settings, scale, months, seed_value))), err=True)
        return
    if scale == "reference":
        added = _run(lambda: _load_reference(settings))
        click.echo(f"Loaded {added} authorities from the ONS list (no demo data).", err=True)
        return
    from fixtures.seeding import seed_database

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

    from placement.db import migrate

    settings = Settings.from_env()
    migrate(settings.database_url)
    if demo:
        _prepare_demo(settings)
    elif _run(lambda: _count_authorities(settings)) == 0:
        added = _run(lambda: _load_reference(settings))
        click.echo(f"An empty database: loaded {added} authorities from the ONS list.", err=True)
    click.echo(f"serving on http://{host}:{port} (docs: http://{host}:{port}/schema)", err=True)
    # No `server` banner: it tells an attacker what to try. Behind a TLS proxy on this
    # host, uvicorn trusts its X-Forwarded-For/-Proto (FORWARDED_ALLOW_IPS widens that).
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        server_header=False,
        proxy_headers=True,
    )


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


@main.command("backfill-characteristics")
def backfill_characteristics() -> None:
    """Derive the Part 4 characteristics of referrals registered before they were kept
    (migration 0009); the service keeps them for every household it writes since."""
    settings = Settings.from_env()
    written = _run(lambda: _backfill(settings))
    click.echo(f"Derived the characteristics of {written} referrals.", err=True)


async def _backfill(settings: Settings) -> int:
    from placement import characteristics
    from placement.crypto import load_cipher

    async with _session(settings) as session:
        return await characteristics.backfill(session, load_cipher(settings))


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
    label = name or f"{role} key"
    key = _run(lambda: issue_key(settings, Role(role), label, authority_code, provider_id, region))
    click.echo(key)


@keys.command("list")
@click.option("--all", "show_all", is_flag=True, help="include revoked keys")
def list_keys_command(show_all: bool) -> None:
    """List keys, oldest first, one per line; never the keys themselves.

    Tab-separated: id, name, role, scope, key prefix, created, revoked ("-" for none).
    """
    settings = Settings.from_env()
    for row in _run(lambda: _all_keys(settings)):
        if show_all or row.revoked_at is None:
            click.echo("\t".join(_key_fields(row)))


@keys.command("revoke")
@click.argument("key_id", type=click.UUID)
def revoke_command(key_id: uuid.UUID) -> None:
    """Revoke the key KEY_ID (an id from `keys list`); a revoked key stays revoked.

    Running servers refuse it within their PLACEMENT_KEY_CACHE_SECONDS. Unlike the API,
    this may revoke the last admin key (it warns): `keys create --role admin` is the way
    back in.
    """
    settings = Settings.from_env()
    row, revoked, admins_left = _run(lambda: _revoke(settings, key_id))
    if revoked:
        click.echo(f"revoked key {key_id} ({row.name})", err=True)
        if admins_left == 0:
            click.echo(
                "warning: no admin key works now; create one with "
                "`placement keys create --role admin`",
                err=True,
            )
    else:
        click.echo(f"key {key_id} ({row.name}) was already revoked; nothing changed", err=True)


@keys.command("secret")
def new_secret() -> None:
    """Print a new encryption key for PLACEMENT_SECRET_KEY."""
    from placement.crypto import new_secret_key

    click.echo(new_secret_key())


@main.command("grant-app-role")
@click.argument("role")
def grant_app_role_command(role: str) -> None:
    """Give the PostgreSQL role ROLE exactly what the service needs, as the tables' owner.

    Run it with PLACEMENT_DATABASE_URL naming the owner (who runs migrations), then serve
    with a URL naming ROLE: it may read and write the service's tables but only read and
    add to the audit log, and, owning nothing, can neither alter, drop nor disable a
    trigger. Idempotent: run it again after every `placement migrate`.
    """
    settings = Settings.from_env()
    granted = _run(lambda: _grant(settings, role))
    for table, privileges in granted.items():
        click.echo(f"{table}\t{privileges}")
    click.echo(f"granted {role} the service's privileges on {len(granted)} tables", err=True)


async def _grant(settings: Settings, role: str) -> dict[str, str]:
    from placement.app_role import grant_app_role

    async with _session(settings) as session:
        connection = await session.connection()
        return await connection.run_sync(grant_app_role, role)


@main.group()
def audit() -> None:
    """Check the audit log."""


@audit.command("verify")
def verify_audit() -> None:
    """Walk the audit log's hash chain from the first event to the newest.

    Prints "N events verified" and the newest event's hash (keep it somewhere outside the
    database: a later run must reach it); or, exiting with status 1, the first event that
    was changed, deleted or inserted since it was written.
    """
    from placement.audit_chain import Broken

    settings = Settings.from_env()
    verdict = _run(lambda: _verify(settings))
    if isinstance(verdict, Broken):
        raise click.ClickException(f"the audit log is broken at {verdict}")
    click.echo(str(verdict))


async def _verify(settings: Settings) -> Broken | Intact:
    from placement.audit_chain import verify

    async with _session(settings) as session:
        connection = await session.connection()
        return await connection.run_sync(verify)


async def issue_key(
    settings: Settings,
    role: Role,
    name: str,
    authority_code: str | None = None,
    provider_id: uuid.UUID | None = None,
    region: str | None = None,
) -> str:
    """Create a key in its own transaction (with its audit event); returns the plaintext."""
    from placement import audit
    from placement.security import SYSTEM, create_api_key

    async with _session(settings) as session:
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


async def _all_keys(settings: Settings) -> list[ApiKey]:
    """Every key, oldest first, paged through the same listing the API serves."""
    from placement.security import list_keys

    rows: list[ApiKey] = []
    async with _session(settings) as session:
        while True:
            page = await list_keys(session, KEY_PAGE, len(rows))
            rows += page.items
            if not page.items or len(rows) >= page.total:
                return rows


def _key_fields(row: ApiKey) -> list[str]:
    scopes = (
        ("authority", row.authority_code),
        ("provider", row.provider_id),
        ("region", row.region),
    )
    scope = ", ".join(f"{kind} {value}" for kind, value in scopes if value) or "-"
    revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
    created = row.created_at.isoformat(timespec="seconds")
    return [str(row.id), row.name, str(row.role), scope, row.key_prefix, created, revoked]


async def _revoke(settings: Settings, key_id: uuid.UUID) -> tuple[ApiKey, bool, int]:
    """Revoke as the API does: audited only by the call that revoked (see `revoke_key`),
    but the last admin key too (the recovery path); also says how many admin keys work."""
    from placement import audit
    from placement.security import SYSTEM, live_admin_keys, revoke_key

    async with _session(settings) as session:
        row, revoked = await revoke_key(session, key_id, keep_an_admin=False)
        if row is None:
            raise NotFound("api_key", key_id)
        if revoked:
            audit.record(session, SYSTEM, "revoke", "api_key", key_id)
        admins_left = len(await live_admin_keys(session))
    return row, revoked, admins_left


async def _load_reference(settings: Settings) -> int:
    from placement.registry.authorities import load_reference_authorities
    from placement.security import SYSTEM

    async with _session(settings) as session:
        return await load_reference_authorities(session, SYSTEM)


async def _count_authorities(settings: Settings) -> int:
    from sqlalchemy import func, select

    from placement.models import Authority

    async with _session(settings) as session:
        return int(await session.scalar(select(func.count()).select_from(Authority)) or 0)


async def _count_keys(settings: Settings) -> int:
    from sqlalchemy import func, select

    from placement.models import ApiKey

    async with _session(settings) as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


@asynccontextmanager
async def _engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for one command: its pool is disposed when the command's work is done."""
    from placement.db import create_engine

    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One transaction on a database at the current schema, or a one-line error.

    Only `migrate`, `serve` and `seed` migrate. Other commands refuse a database that
    is not at the newest migration before touching it, rather than fail midway on a
    missing table or, for a SQLite file that does not exist, create an empty one.
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.db import current_revision, head_revision

    if _missing_sqlite_file(settings.database_url):
        raise _not_migrated(settings)
    async with (
        _engine(settings) as engine,
        AsyncSession(engine, expire_on_commit=False) as session,
        session.begin(),
    ):
        connection = await session.connection()
        if await connection.run_sync(current_revision) != head_revision():
            raise _not_migrated(settings)
        yield session


async def _schema_revision(settings: Settings) -> str | None:
    from placement.db import current_revision

    async with _engine(settings) as engine, engine.connect() as connection:
        return await connection.run_sync(current_revision)


def _not_migrated(settings: Settings) -> click.ClickException:
    return click.ClickException(
        f"the database at {_safe_url(settings)} is not at the current schema; "
        "run `placement migrate` first"
    )


def _missing_sqlite_file(database_url: str) -> bool:
    """Whether the URL names a SQLite file that is not there (connecting would create it)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    return not Path(database).exists()


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
