"""The `placement` command line: keys, migrate, and the help of every command."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import Connection, func, inspect, select, text

from placement.cli import main
from placement.config import Settings
from placement.db import migrate
from placement.models import ApiKey, AuditEvent
from tests.conftest import API, MANCHESTER, TEST_SECRET, Actors, app_client, with_connection

KEY = re.compile(r"^psk_[A-Za-z0-9_-]{40,}$")
ROOT = Path(__file__).resolve().parents[1]


def run(database_url: str, data_dir: Path, *args: str) -> Result:
    env = {
        "PLACEMENT_DATABASE_URL": database_url,
        "PLACEMENT_DATA_DIR": str(data_dir),
        "PLACEMENT_SECRET_KEY": TEST_SECRET,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run_on(settings: Settings, *args: str) -> Result:
    return run(settings.database_url, settings.data_dir, *args)


def key_count(settings: Settings) -> int:
    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(ApiKey)).scalar_one())

    return with_connection(settings.database_url, count)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_key(settings: Settings, *args: str) -> str:
    result = run_on(settings, "keys", "create", *args)
    assert result.exit_code == 0, result.output
    [key] = result.stdout.splitlines()
    return key


def listed(settings: Settings, *args: str) -> list[list[str]]:
    """`keys list`, split into its tab-separated fields."""
    result = run_on(settings, "keys", "list", *args)
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def listed_id(settings: Settings, key: str) -> str:
    """The id `keys list` shows for a key, found by its prefix."""
    [key_id] = [fields[0] for fields in listed(settings, "--all") if key.startswith(fields[4])]
    return key_id


def key_audit(settings: Settings, key_id: str) -> list[tuple[str, str]]:
    """(action, actor) of every audit event about one key, oldest first."""

    def events(conn: Connection) -> list[tuple[str, str]]:
        query = (
            select(AuditEvent.action, AuditEvent.actor_label)
            .where(AuditEvent.record_type == "api_key", AuditEvent.record_id == key_id)
            .order_by(AuditEvent.id)
        )
        return [(action, actor) for action, actor in conn.execute(query)]

    return with_connection(settings.database_url, events)


def table_names(database_url: str) -> list[str]:
    return with_connection(database_url, lambda conn: inspect(conn).get_table_names())


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run Python in a fresh interpreter from the repository root (so it imports this tree)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )


def test_keys_create_prints_the_key_alone_and_it_works(migrated_settings: Settings) -> None:
    result = run_on(migrated_settings, "keys", "create", "--role", "admin")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    key = lines[0]
    assert KEY.match(key), key
    assert key not in result.stderr
    with app_client(migrated_settings) as client:
        response = client.get(f"{API}/keys", headers=bearer(key))
        assert response.status_code == 200, response.text
        [listed] = response.json()["items"]
        assert (listed["role"], listed["name"]) == ("admin", "admin key")
        assert key.startswith(listed["key_prefix"])
        audit = client.get(f"{API}/audit", headers=bearer(key)).json()["items"]
        assert [(e["action"], e["record_type"], e["actor_label"]) for e in audit] == [
            ("create", "api_key", "placement cli")
        ]


def test_scoped_keys(actors: Actors) -> None:
    settings = actors.settings
    cases: list[tuple[list[str], str, int, int]] = [
        # args, path, status with the key, status of GET /keys with the key
        (["--role", "housing_officer", "--authority", MANCHESTER[0]], "units", 200, 403),
        (["--role", "integration", "--authority", MANCHESTER[0]], "schemes", 200, 403),
        (["--role", "provider", "--provider", actors.provider_b], "schemes", 200, 403),
        (["--role", "commissioner", "--region", "Greater Manchester"], "protocols", 200, 403),
    ]
    for args, path, status, keys_status in cases:
        result = run_on(settings, "keys", "create", *args, "--name", "scripted")
        assert result.exit_code == 0, (args, result.output)
        [key] = result.stdout.splitlines()
        assert actors.client.get(f"{API}/{path}", headers=bearer(key)).status_code == status
        assert actors.client.get(f"{API}/keys", headers=bearer(key)).status_code == keys_status
    provider_view = actors.client.get(f"{API}/keys", headers=actors.headers("admin")).json()
    scripted = [k for k in provider_view["items"] if k["name"] == "scripted"]
    assert [k["role"] for k in scripted] == [
        "housing_officer",
        "integration",
        "provider",
        "commissioner",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "housing_officer"], "scoped to one authority"),
        (["--role", "integration"], "scoped to one authority"),
        (["--role", "provider"], "scoped to one provider"),
        (["--role", "commissioner"], "authority or a region"),
        (["--role", "housing_officer", "--authority", "E08999999"], "no authority"),
        (["--role", "admin", "--region", "London"], "no scope"),
    ],
)
def test_keys_create_refuses_a_key_without_its_scope(
    migrated_settings: Settings, args: list[str], message: str
) -> None:
    result = run_on(migrated_settings, "keys", "create", *args)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert key_count(migrated_settings) == 0


def test_keys_create_refuses_an_unknown_role(migrated_settings: Settings) -> None:
    result = run_on(migrated_settings, "keys", "create", "--role", "superuser")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "superuser" in result.stderr
    assert key_count(migrated_settings) == 0


def test_keys_secret_prints_a_usable_encryption_key(tmp_path: Path) -> None:
    result = run(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path, "keys", "secret")
    assert result.exit_code == 0
    [secret] = result.stdout.splitlines()
    assert Fernet(secret.encode()).decrypt(Fernet(secret.encode()).encrypt(b"x")) == b"x"


def test_migrate_is_idempotent(empty_database_url: str, tmp_path: Path) -> None:
    def state(conn: Connection) -> tuple[set[str], list[Any]]:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return set(inspect(conn).get_table_names()), list(versions)

    first = run(empty_database_url, tmp_path, "migrate")
    assert first.exit_code == 0, first.output
    assert "up to date" in first.stderr
    assert "was empty" in first.stderr
    assert first.stdout == ""
    tables, versions = with_connection(empty_database_url, state)
    assert {"schemes", "units", "audit_events", "api_keys"} <= tables
    assert len(versions) == 1
    second = run(empty_database_url, tmp_path, "migrate")
    assert second.exit_code == 0, second.output
    assert "up to date" in second.stderr
    assert ", was" not in second.stderr
    assert with_connection(empty_database_url, state) == (tables, versions)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ([], "Safe-accommodation placement service"),
        (["migrate"], "schema up to date"),
        (["seed"], "synthetic data"),
        (["serve"], "serve the API"),
        (["keys"], "Manage API keys"),
        (["keys", "create"], "prints the key alone"),
        (["keys", "list"], "never the keys themselves"),
        (["keys", "revoke"], "Revoke the key KEY_ID"),
        (["keys", "secret"], "PLACEMENT_SECRET_KEY"),
    ],
    ids=[
        "placement",
        "migrate",
        "seed",
        "serve",
        "keys",
        "keys-create",
        "keys-list",
        "keys-revoke",
        "keys-secret",
    ],
)
def test_help(tmp_path: Path, command: list[str], says: str) -> None:
    result = run(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path, *command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage:")
    assert says in " ".join(result.stdout.split())
    assert not (tmp_path / "unused.db").exists()  # help touches no database


def test_keys_list_shows_every_live_key_and_never_a_key(actors: Actors) -> None:
    settings = actors.settings
    officer = create_key(
        settings, "--role", "housing_officer", "--authority", MANCHESTER[0], "--name", "desk 4"
    )
    gone = create_key(settings, "--role", "admin", "--name", "to revoke")
    result = run_on(settings, "keys", "list", "--all")
    for key in [officer, gone, *actors.keys.values()]:
        assert key not in result.output
    rows = listed(settings)
    assert all(len(fields) == 7 for fields in rows), rows
    assert len(rows) == len(actors.keys) + 2
    [desk] = [fields for fields in rows if fields[1] == "desk 4"]
    assert desk[2:4] == ["housing_officer", f"authority {MANCHESTER[0]}"]
    assert officer.startswith(desk[4])
    assert desk[6] == "-"
    [commissioner] = [fields for fields in rows if fields[2] == "commissioner"]
    assert commissioner[3] == "region Greater Manchester"

    gone_id = listed_id(settings, gone)
    assert run_on(settings, "keys", "revoke", gone_id).exit_code == 0
    assert gone_id not in [fields[0] for fields in listed(settings)]
    [revoked] = [fields for fields in listed(settings, "--all") if fields[0] == gone_id]
    assert revoked[6] != "-"


def test_keys_revoke_shuts_the_key_out_and_is_audited_once(migrated_settings: Settings) -> None:
    key = create_key(migrated_settings, "--role", "admin")
    key_id = listed_id(migrated_settings, key)
    with app_client(migrated_settings) as client:
        assert client.get(f"{API}/keys", headers=bearer(key)).status_code == 200
    first = run_on(migrated_settings, "keys", "revoke", key_id)
    assert first.exit_code == 0, first.output
    assert f"revoked key {key_id}" in first.stderr
    assert "warning: no admin key works now" in first.stderr  # it was the only one
    # A fresh app: the one above may trust the key for PLACEMENT_KEY_CACHE_SECONDS.
    with app_client(migrated_settings) as client:
        assert client.get(f"{API}/keys", headers=bearer(key)).status_code == 401
    second = run_on(migrated_settings, "keys", "revoke", key_id)
    assert second.exit_code == 0, second.output
    assert "already revoked" in second.stderr
    assert key_audit(migrated_settings, key_id) == [
        ("create", "placement cli"),
        ("revoke", "placement cli"),
    ]


def test_keys_revoke_refuses_an_unknown_id(migrated_settings: Settings) -> None:
    unknown = str(uuid.uuid4())
    result = run_on(migrated_settings, "keys", "revoke", unknown)
    assert result.exit_code == 1
    assert f"no api_key with id {unknown}" in result.stderr
    assert "Traceback" not in result.output
    assert key_audit(migrated_settings, unknown) == []
    assert run_on(migrated_settings, "keys", "revoke", "not-a-uuid").exit_code == 2


def test_version(tmp_path: Path) -> None:
    result = run(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path, "--version")
    assert result.exit_code == 0
    assert result.stdout == f"placement {version('safe-placement')}\n"


@pytest.mark.parametrize(
    "command",
    [
        ["keys", "create", "--role", "admin"],
        ["keys", "list"],
        ["keys", "revoke", str(uuid.uuid4())],
    ],
    ids=["create", "list", "revoke"],
)
def test_key_commands_refuse_an_unmigrated_database(
    empty_database_url: str, tmp_path: Path, command: list[str]
) -> None:
    result = run(empty_database_url, tmp_path, *command)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "not at the current schema; run `placement migrate` first" in line
    assert list(tmp_path.iterdir()) == []  # no SQLite file, no data directory
    assert table_names(empty_database_url) == []


def test_keys_create_refuses_a_database_behind_the_newest_migration(
    empty_database_url: str, tmp_path: Path
) -> None:
    migrate(empty_database_url, "0001")
    result = run(empty_database_url, tmp_path, "keys", "create", "--role", "admin")
    assert result.exit_code == 1
    assert "run `placement migrate` first" in result.stderr
    assert result.stdout == ""
    settings = Settings(data_dir=tmp_path, database_url=empty_database_url, secret_key=None)
    assert key_count(settings) == 0


HEAVY = ("ortools", "scipy", "numpy", "alembic", "litestar", "sqlalchemy", "fixtures")
CHILD = f"""
import sys
from placement.cli import main
main(sys.argv[1:], standalone_mode=False)
print(sorted(name for name in {HEAVY!r} if name in sys.modules))
"""


@pytest.mark.parametrize(
    "command", [["--help"], ["--version"], ["keys", "list", "--help"]], ids=" ".join
)
def test_help_and_version_import_neither_solvers_nor_the_database(command: list[str]) -> None:
    """`placement --help` stays fast: nothing heavy is imported before a command needs it."""
    child = run_process("-c", CHILD, *command)
    assert ast.literal_eval(child.stdout.splitlines()[-1]) == []


def test_migrate_says_one_line_and_alembic_speaks_only_when_asked(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = {
        "PLACEMENT_DATABASE_URL": empty_database_url,
        "PLACEMENT_DATA_DIR": str(tmp_path),
        "PLACEMENT_SECRET_KEY": TEST_SECRET,
    }
    quiet = run_process("-m", "placement", "migrate", env=env)
    [line] = quiet.stderr.splitlines()
    assert "is up to date" in line
    verbose = run_process("-m", "placement", "-v", "migrate", env=env)
    assert "INFO alembic" in verbose.stderr


# -- the real authorities, without demo data ----------------------------------------------


def table_counts(url: str) -> dict[str, int]:
    def count(conn: Connection) -> dict[str, int]:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("authorities", "schemes", "units", "referrals")
        }

    return with_connection(url, count)


def test_seed_reference_loads_the_ons_list_and_no_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    first = run(empty_database_url, tmp_path, "seed", "--scale", "reference")
    assert first.exit_code == 0, first.output
    assert "Loaded 296 authorities" in first.stderr
    assert table_counts(empty_database_url) == {
        "authorities": 296,
        "schemes": 0,
        "units": 0,
        "referrals": 0,
    }
    again = run(empty_database_url, tmp_path, "seed", "--scale", "reference")
    assert "Loaded 0 authorities" in again.stderr
    assert table_counts(empty_database_url)["authorities"] == 296


def test_serve_on_an_empty_database_loads_the_real_authorities(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **options: served.append((app, options["access_log"]))
    )
    result = run(empty_database_url, tmp_path, "serve")
    assert result.exit_code == 0, result.output
    assert served == [("api.asgi:app", False)]  # a line per request only with -v
    assert "loaded 296 authorities" in result.stderr
    assert table_counts(empty_database_url)["authorities"] == 296
    assert table_counts(empty_database_url)["schemes"] == 0
    # A database with authorities is left as it is.
    second = run(empty_database_url, tmp_path, "-v", "serve")
    assert "authorities" not in second.stderr
    assert served[-1] == ("api.asgi:app", True)
