"""The `placement` command line: keys, migrate, and the help of every command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import Connection, func, inspect, select, text

from placement.cli import main
from placement.config import Settings
from placement.models import ApiKey
from tests.conftest import API, MANCHESTER, TEST_SECRET, Actors, app_client, with_connection

KEY = re.compile(r"^psk_[A-Za-z0-9_-]{40,}$")


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
    assert first.stdout == ""
    tables, versions = with_connection(empty_database_url, state)
    assert {"schemes", "units", "audit_events", "api_keys"} <= tables
    assert len(versions) == 1
    second = run(empty_database_url, tmp_path, "migrate")
    assert second.exit_code == 0, second.output
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
        (["keys", "secret"], "PLACEMENT_SECRET_KEY"),
    ],
    ids=["placement", "migrate", "seed", "serve", "keys", "keys-create", "keys-secret"],
)
def test_help(tmp_path: Path, command: list[str], says: str) -> None:
    result = run(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path, *command, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage:")
    assert says in " ".join(result.stdout.split())
    assert not (tmp_path / "unused.db").exists()  # help touches no database
