"""The service run as a PostgreSQL role that owns no tables: `placement grant-app-role`
gives it what serving needs, and it cannot change, drop or unguard the audit log."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from placement.cli import main
from placement.config import Settings
from tests.conftest import (
    API,
    TEST_SECRET,
    _pg_execute,
    app_client,
    populate,
    scheme_body,
    settings_for,
    unit_body,
    with_connection,
)
from tests.placing import create_referral, matches


def cli(settings: Settings, *args: str) -> Result:
    env = {
        "PLACEMENT_DATABASE_URL": settings.database_url,
        "PLACEMENT_DATA_DIR": str(settings.data_dir),
        "PLACEMENT_SECRET_KEY": TEST_SECRET,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def execute(url: str, statement: str) -> None:
    def run(conn: Connection) -> None:
        conn.execute(text(statement))

    with_connection(url, run, commit=True)


@pytest.fixture
def app_role(backend: str, database_url: str) -> Iterator[str]:
    """A login role of its own (roles belong to the whole server), dropped afterwards."""
    if backend != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"placement_app_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(f"CREATE ROLE {role} LOGIN"))
    yield role
    execute(database_url, f"DROP OWNED BY {role}")
    asyncio.run(_pg_execute(f"DROP ROLE {role}"))


def as_role(database_url: str, role: str) -> str:
    return make_url(database_url).set(username=role).render_as_string(hide_password=False)


def test_the_app_role_serves_but_cannot_change_the_audit_log(
    database_url: str, app_role: str, tmp_path: Path
) -> None:
    owner = settings_for(database_url, tmp_path)
    granted = cli(owner, "grant-app-role", app_role)
    assert granted.exit_code == 0, granted.output
    assert "audit_events\tSELECT, INSERT\n" in granted.stdout
    assert "units\tSELECT, INSERT, UPDATE, DELETE\n" in granted.stdout

    service = settings_for(as_role(database_url, app_role), tmp_path)
    with app_client(service) as client:
        actors = populate(client, service)  # writes, each with its audit event
        scheme = actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a))
        assert scheme.status_code == 201, scheme.text
        unit = actors.post("provider_a", f"{API}/units", unit_body(scheme.json()["id"]))
        assert unit.status_code == 201, unit.text
        found = matches(actors, create_referral(actors)["id"])  # a read, audited
        assert [o["unit_id"] for o in found["options"]] == [unit.json()["id"]]
    verified = cli(service, "audit", "verify")
    assert verified.exit_code == 0, verified.output

    role_url = service.database_url
    for statement in (
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "DROP TRIGGER audit_events_no_change ON audit_events",
        "DROP TABLE audit_events",
        "DROP TABLE units",
        "DELETE FROM audit_chain_head",
    ):
        with pytest.raises(DBAPIError, match=r"permission denied|must be owner"):
            execute(role_url, statement)
    assert cli(owner, "audit", "verify").exit_code == 0


def test_a_role_that_owns_a_table_is_refused(
    database_url: str, app_role: str, tmp_path: Path
) -> None:
    execute(database_url, f"ALTER TABLE registry_changes OWNER TO {app_role}")
    result = cli(settings_for(database_url, tmp_path), "grant-app-role", app_role)
    assert result.exit_code == 1
    assert f"{app_role} owns tables (registry_changes)" in result.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_has_no_roles_to_grant(migrated_settings: Settings, backend: str) -> None:
    result = cli(migrated_settings, "grant-app-role", "anyone")
    assert result.exit_code == 1
    assert "PostgreSQL" in result.stderr


def test_an_unknown_role_is_refused(migrated_settings: Settings, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    result = cli(migrated_settings, "grant-app-role", "no_such_role_here")
    assert result.exit_code == 1
    assert "there is no role no_such_role_here" in result.stderr
