"""The `placement` command: serve, migrate, seed, manage keys and people's accounts, check
the audit log, grant a PostgreSQL role the service's privileges, and simulate a year (and
what-ifs).

Every command reads its settings from the environment (see `placement.config`), so
several instances can run side by side with different PLACEMENT_DATA_DIRs.

`placement --help` should answer at once, so this module imports only click and light
modules of ours at the top. SQLAlchemy, Alembic, the models, the synthetic data and the
web server are imported inside the commands that use them (the matcher only ever by the
app), and roles come from `placement.roles`, which imports nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
DEMO_SIGN_INS_FILE = "demo-sign-ins.txt"
DEMO_AUTHORITY = "E08000003"  # Manchester, in the demo data
DEMO_REGION = "Greater Manchester"
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
@click.pass_context
def serve(context: click.Context, host: str, port: int, workers: int, demo: bool) -> None:
    """Apply migrations, then serve the API (OpenAPI docs at /schema); `placement -v
    serve` also logs each request (the TLS proxy in front keeps the access log)."""
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
    # A line per request only with -v: the proxy logs every request already, and the
    # line (formatted and written on the event loop) cost a worker 5% of a match's CPU.
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        server_header=False,
        proxy_headers=True,
        access_log=bool(context.find_root().params["verbose"]),
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
    _prepare_demo_accounts(settings)


def _prepare_demo_accounts(settings: Settings) -> None:
    """On a database with no accounts, one per role for the pages, printed and saved
    owner-only in the data dir (as the dev key is); later runs point to the file."""
    sign_ins_file = settings.data_dir / DEMO_SIGN_INS_FILE
    if _run(lambda: _count_users(settings)) > 0:
        if sign_ins_file.exists():
            click.echo(f"Demo sign-ins for the pages: see {sign_ins_file}", err=True)
        return
    lines = _run(lambda: _demo_accounts(settings))
    text = "\n".join(lines) + "\n"
    fd = os.open(sign_ins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    click.echo(
        f"Demo sign-ins for the pages at /sign-in (also saved, owner-only, in "
        f"{sign_ins_file}):\n\n{text}",
        err=True,
    )


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


@main.group()
def users() -> None:
    """Manage people's accounts for the pages (same roles and scopes as keys)."""


@users.command("create")
@click.option("--email", required=True, help="the person's email; they sign in with it")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--authority", "authority_code", help="ONS code (housing_officer, integration, commissioner)"
)
@click.option("--provider", "provider_id", type=click.UUID, help="provider id (provider)")
@click.option("--region", help="region or group name, e.g. 'Greater Manchester' (commissioner)")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input's first line"
)
def create_user_command(
    email: str,
    role: str,
    authority_code: str | None,
    provider_id: uuid.UUID | None,
    region: str | None,
    password_stdin: bool,
) -> None:
    """Create an account. Without --password-stdin a password is generated and printed
    alone on standard output (the only time it is shown), so scripts can capture it."""
    from placement.accounts import new_password

    settings = Settings.from_env()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
    else:
        password = new_password()
    user_id = _run(
        lambda: create_account(
            settings, email, Role(role), password, authority_code, provider_id, region
        )
    )
    click.echo(f"created account {user_id} for {email} ({role})", err=True)
    if not password_stdin:
        click.echo(password)


@users.command("list")
def list_users_command() -> None:
    """List accounts by email, one per line; never passwords (only hashes are kept).

    Tab-separated: id, email, role, scope, created, disabled ("-" for none).
    """
    settings = Settings.from_env()
    for line in _run(lambda: _all_users(settings)):
        click.echo("\t".join(line))


@users.command("disable")
@click.argument("user_id", type=click.UUID)
def disable_user_command(user_id: uuid.UUID) -> None:
    """Disable the account USER_ID (an id from `users list`): its sessions end at once."""
    settings = Settings.from_env()
    email, disabled = _run(lambda: _disable_user(settings, user_id))
    if disabled:
        click.echo(f"disabled account {user_id} ({email})", err=True)
    else:
        click.echo(f"account {user_id} ({email}) was already disabled; nothing changed", err=True)


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


SIM_SCALES = ("demo", "region", "national")


def _seeds(count: int) -> list[int]:
    if count < 1:
        raise click.BadParameter("must be 1 or more", param_hint="--seeds")
    return list(range(1, count + 1))


def _policies(names: str, batch_hours: int, hold_back_days: float) -> list[Any]:
    from simulation.policies import HoldBack, policy_named

    hold_back = HoldBack(horizon_days=hold_back_days) if hold_back_days > 0 else None
    try:
        return [policy_named(n.strip(), batch_hours, hold_back) for n in names.split(",")]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--policy") from exc


@contextmanager
def _progress(label: str) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr, fed fractions done."""
    steps = 1000
    with click.progressbar(length=steps, label=label, file=sys.stderr) as bar:
        shown = 0

        def update(fraction: float) -> None:
            nonlocal shown
            target = min(steps, int(fraction * steps))
            if target > shown:
                bar.update(target - shown)
                shown = target

        yield update


def _simulation_options(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(
        (
            click.option(
                "--scale",
                type=click.Choice(SIM_SCALES),
                default="demo",
                show_default=True,
                help="the synthetic registry and household mix to simulate",
            ),
            click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True),
            click.option(
                "--seeds", type=int, default=1, show_default=True, help="years to run (seeds 1..K)"
            ),
            click.option(
                "--batch-hours",
                type=click.IntRange(1, 24 * 28),
                default=24,
                show_default=True,
                help="hours between the batch policies' allocations",
            ),
            click.option(
                "--hold-back-days",
                type=click.FloatRange(0),
                default=0.0,
                show_default=True,
                help="batch: keep free wheelchair units for the wheelchair users expected in "
                "this many days, in unpriced rounds (0: no hold-back; batch is priced)",
            ),
            click.option("--json", "as_json", is_flag=True, help="one JSON object a line"),
        )
    ):
        command = option(command)
    return command


def _words(row: dict[str, Any]) -> str:
    waits = row["time_to_placement_days"]
    ratio = "no hindsight bound" if row["ratio"] is None else f"{row['ratio']:.1%} of hindsight"
    gain = row["gain_vs_fcfs_pct"]
    return (
        f"{row['policy']}: placed {row['placed']:.0f} of {row['referred']:.0f} referred, "
        f"priority-weighted {row['weighted_placed']:.1f} ({ratio}"
        + ("" if gain is None else f", {gain:+.1f}% on first come first served")
        + "); days to placement at the 90th percentile: "
        + ", ".join(f"{group.replace('_', ' ')} {w['p90']}" for group, w in waits.items())
    )


@main.command("simulate")
@_simulation_options
@click.option(
    "--policy",
    "policy_names",
    default="fcfs,batch",
    show_default=True,
    help="comma-separated: fcfs, batch (rounds net of bid prices), batch-unpriced, batch+perp",
)
@click.option("--no-hindsight", is_flag=True, help="skip the hindsight bound")
def simulate_command(
    scale: str,
    days: int,
    seeds: int,
    batch_hours: int,
    hold_back_days: float,
    as_json: bool,
    policy_names: str,
    no_hindsight: bool,
) -> None:
    """Simulate a year of referrals and vacancies under each policy, against the
    hindsight bound; one line per policy on stdout."""
    from fixtures.simulated import world_for
    from simulation.compare import compare

    policies = _policies(policy_names, batch_hours, hold_back_days)
    world, _ = world_for(scale)
    with _progress(f"simulating {scale}") as progress:
        rows = compare(
            world, policies, _seeds(seeds), days, hindsight=not no_hindsight, progress=progress
        )
    for row in rows:
        click.echo(json.dumps({"scale": scale, **row}) if as_json else _words(row))


@main.command("what-if")
@_simulation_options
@click.option("--policy", "policy_names", default="batch", show_default=True)
@click.option("--add", "add", type=click.IntRange(1), help="add this many units")
@click.option("--remove", "remove", type=click.IntRange(1), help="remove this many units")
@click.option(
    "--type", "scheme_type", default="refuge", show_default=True, help="the units' scheme type"
)
@click.option("--features", default="", help="comma-separated access features of the units")
@click.option("--authority", help="ONS code of the authority the units are in (or that joins)")
@click.option("--bedrooms", type=click.IntRange(1, 8), default=1, show_default=True)
@click.option("--bed-spaces", type=click.IntRange(1, 16), default=3, show_default=True)
@click.option("--gender-policy", default="women_only", show_default=True)
@click.option("--nrpf", is_flag=True, help="the added units can take NRPF households")
@click.option("--join", "join", help="name of a protocol that --authority joins")
@click.option("--leave", "leave", help="name of a protocol that --authority leaves")
def what_if_command(
    scale: str,
    days: int,
    seeds: int,
    batch_hours: int,
    hold_back_days: float,
    as_json: bool,
    policy_names: str,
    add: int | None,
    remove: int | None,
    scheme_type: str,
    features: str,
    authority: str | None,
    bedrooms: int,
    bed_spaces: int,
    gender_policy: str,
    nrpf: bool,
    join: str | None,
    leave: str | None,
) -> None:
    """What a change to the registry or a protocol would do: paired simulations over the
    same arrivals, the difference with a 95% interval over seeds; a line per policy."""
    from fixtures.simulated import world_for
    from optimiser import Point, Unit
    from placement.enums import AccessFeature, GenderPolicy, SchemeType
    from placement.geography import local_authorities
    from simulation.whatif import AddUnits, ChangeProtocol, RemoveUnits, what_if

    if sum(x is not None for x in (add, remove, join, leave)) != 1:
        raise click.UsageError("give exactly one of --add, --remove, --join, --leave")
    known = local_authorities()
    if authority not in known:
        raise click.BadParameter(
            "must be the ONS code of an English authority", param_hint="--authority"
        )
    _choose(scheme_type, SchemeType, "--type")
    _choose(gender_policy, GenderPolicy, "--gender-policy")
    policies = _policies(policy_names, batch_hours, hold_back_days)
    access = frozenset(f for f in features.split(",") if f)
    for feature in access:
        _choose(feature, AccessFeature, "--features")
    world, protocol_ids = world_for(scale)
    change: AddUnits | RemoveUnits | ChangeProtocol
    if add is not None:
        place = known[authority]
        like = Unit(
            id="what-if",
            scheme_id="what-if",
            provider_id="what-if",
            authority_code=authority,
            location=Point(place.latitude, place.longitude),
            bedrooms=bedrooms,
            bed_spaces=bed_spaces,
            available_from=world.start,
            scheme_type=scheme_type,
            access_features=access,
            gender_policy=gender_policy,
            accepts_nrpf=nrpf,
        )
        change = AddUnits(add, like)
    elif remove is not None:
        change = RemoveUnits(remove, scheme_type, authority, access)
    else:
        name = join or leave
        if name not in protocol_ids:
            raise click.BadParameter(
                "no protocol of that name in force; choose one of "
                + ", ".join(sorted(protocol_ids)),
                param_hint="--join" if join else "--leave",
            )
        change = ChangeProtocol(protocol_ids[name], authority, leave=leave is not None)
    for policy in policies:
        try:
            with _progress(f"what-if under {policy.name}") as progress:
                row = what_if(world, change, policy, _seeds(seeds), days, progress)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        click.echo(json.dumps({"scale": scale, **row}) if as_json else _what_if_words(row))


@main.command("worker")
@click.option("--name", default="placement-worker", show_default=True, help="in the logs")
def worker_command(name: str) -> None:
    """Run jobs (what-ifs, group and region allocations) from the PostgreSQL queue; as
    many as wanted, on any host that reaches the database. Stops on SIGINT or SIGTERM."""
    from placement.jobs.worker import work

    settings = Settings.from_env()
    click.echo(f"worker {name} taking jobs from {_safe_url(settings)}", err=True)
    asyncio.run(work(settings, name))


@main.command("job")
@click.argument("job_id", type=click.UUID)
@click.option("--wait", is_flag=True, help="show a progress bar until the job has ended")
def job_command(job_id: uuid.UUID, wait: bool) -> None:
    """A job's status and progress (and once it has ended, its result or error) as JSON;
    with --wait, a progress bar on stderr first, until it has ended."""
    from placement.jobs.service import FINAL
    from placement.models import Job

    settings = Settings.from_env()

    async def read() -> Job:
        async with _session(settings) as session:
            job = await session.get(Job, job_id)
        if job is None:
            raise NotFound("job", job_id)
        return job

    job = _run(read)
    if wait and job.status not in FINAL:
        with _progress(f"job {job.kind}") as progress:
            while job.status not in FINAL:
                progress(job.progress)
                time.sleep(settings.job_poll_seconds)
                job = _run(read)
            progress(job.progress)
    view = {
        "id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "attempts": job.attempts,
        "result": job.result,
        "error": job.error,
    }
    click.echo(json.dumps(view))


def _choose(value: str, vocabulary: type[StrEnum], option: str) -> None:
    if value not in vocabulary._value2member_map_:
        raise click.BadParameter(
            f"{value!r} is not one of " + ", ".join(vocabulary._value2member_map_),
            param_hint=option,
        )


def _what_if_words(row: dict[str, Any]) -> str:
    parts = []
    for key, figure in row.items():
        if isinstance(figure, dict):
            low, high = figure["interval_95"]
            parts.append(f"{key.replace('_', ' ')} {figure['difference']:+} ({low:+} to {high:+})")
    return f"{row['policy']}, change over {row['seeds']} seed(s): " + "; ".join(parts)


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


async def create_account(
    settings: Settings,
    email: str,
    role: Role,
    password: str,
    authority_code: str | None = None,
    provider_id: uuid.UUID | None = None,
    region: str | None = None,
) -> uuid.UUID:
    """Create an account in its own transaction (with its audit event); returns its id."""
    from placement.accounts import create_user
    from placement.security import SYSTEM

    async with _session(settings) as session:
        user = await create_user(
            session,
            SYSTEM,
            email=email,
            role=role,
            password=password,
            authority_code=authority_code,
            provider_id=provider_id,
            region=region,
        )
    return user.id


async def _count_users(settings: Settings) -> int:
    from placement.accounts import count_users

    async with _session(settings) as session:
        return await count_users(session)


async def _demo_accounts(settings: Settings) -> list[str]:
    """An admin, a Manchester housing officer, the first demo provider's worker and a
    Greater Manchester commissioner; one line each: role, email, password."""
    from sqlalchemy import select

    from placement.accounts import create_user, new_password
    from placement.models import Provider
    from placement.security import SYSTEM

    async with _session(settings) as session:
        provider = await session.scalar(select(Provider.id).order_by(Provider.name).limit(1))
        wanted: list[tuple[str, Role, dict[str, object]]] = [
            ("admin@demo.example", Role.ADMIN, {}),
            ("officer@demo.example", Role.HOUSING_OFFICER, {"authority_code": DEMO_AUTHORITY}),
            ("provider@demo.example", Role.PROVIDER, {"provider_id": provider}),
            ("commissioner@demo.example", Role.COMMISSIONER, {"region": DEMO_REGION}),
        ]
        lines = []
        for email, role, scope in wanted:
            if role is Role.PROVIDER and provider is None:
                continue
            password = new_password()
            await create_user(
                session,
                SYSTEM,
                email=email,
                role=role,
                password=password,
                **scope,  # type: ignore[arg-type]
            )
            lines.append(f"{role.value:<16} {email:<28} {password}")
    return lines


async def _all_users(settings: Settings) -> list[list[str]]:
    from placement.accounts import list_users

    lines: list[list[str]] = []
    async with _session(settings) as session:
        while True:
            page = await list_users(session, KEY_PAGE, len(lines))
            for user in page.items:
                scope = _scope_text(user.authority_code, user.provider_id, user.region)
                disabled = (
                    user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else "-"
                )
                created = user.created_at.isoformat(timespec="seconds")
                lines.append([str(user.id), user.email, str(user.role), scope, created, disabled])
            if not page.items or len(lines) >= page.total:
                return lines


async def _disable_user(settings: Settings, user_id: uuid.UUID) -> tuple[str, bool]:
    from placement.accounts import disable_user
    from placement.security import SYSTEM

    async with _session(settings) as session:
        user, disabled = await disable_user(session, SYSTEM, user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user.email, disabled


def _scope_text(authority_code: str | None, provider_id: object, region: str | None) -> str:
    scopes = (("authority", authority_code), ("provider", provider_id), ("region", region))
    return ", ".join(f"{kind} {value}" for kind, value in scopes if value) or "-"


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
    scope = _scope_text(row.authority_code, row.provider_id, row.region)
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
