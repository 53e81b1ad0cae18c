"""The audit log's hash chain: a clean log verifies, and an event edited, deleted or
inserted behind the service's back (as the tables' owner, past the append-only triggers)
is found, and named, by `placement audit verify`; appends racing each other keep one chain.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection, event, func, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from placement import audit_chain
from placement.audit import ReadAudit
from placement.audit_chain import GENESIS, Broken, Head, Intact, Link, Walk, seal
from placement.cli import issue_key, main
from placement.config import Settings
from placement.db import alembic_config, create_engine, migrate
from placement.enums import Role
from placement.models import AuditEvent
from placement.security import Principal
from tests.conftest import API, TEST_SECRET, Actors, settings_for, with_connection
from tests.placing import create_referral, matches, referral_body

READER = Principal(key_id=uuid.uuid4(), role=Role.HOUSING_OFFICER, label="reader")


def verify(settings: Settings) -> Result:
    env = {
        "PLACEMENT_DATABASE_URL": settings.database_url,
        "PLACEMENT_DATA_DIR": str(settings.data_dir),
        "PLACEMENT_SECRET_KEY": TEST_SECRET,
    }
    return CliRunner().invoke(main, ["audit", "verify"], env=env, catch_exceptions=False)


def assert_broken_at(settings: Settings, event_id: int, problem: str) -> None:
    result = verify(settings)
    assert result.exit_code == 1, result.output
    assert f"the audit log is broken at event {event_id}: {problem}" in result.stderr, result.output


def event_ids(settings: Settings) -> list[int]:
    def read(conn: Connection) -> list[int]:
        return list(conn.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))

    return with_connection(settings.database_url, read)


def as_owner(settings: Settings, work: Callable[[Connection], Any]) -> None:
    """Do `work` as the tables' owner can: with the append-only triggers out of the way."""

    def tamper(conn: Connection) -> None:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            work(conn)
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            work(conn)
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))

    with_connection(settings.database_url, tamper, commit=True)


def sql(statement: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        conn.execute(text(statement))

    return run


def forged(event_id: int, prev_hash: str, *, sealed: bool) -> Callable[[Connection], None]:
    """An INSERT of a back-dated event; `sealed`: its hash made right, as a forger would."""
    event: dict[str, Any] = {
        "id": event_id,
        "at": datetime(2025, 1, 6, 9, 30, tzinfo=UTC),
        "actor_key_id": None,
        "actor_role": "admin",
        "actor_label": "back-dated",
        "action": "read_location",
        "record_type": "scheme",
        "record_id": str(uuid.uuid4()),
        "detail": {},
        "prev_hash": prev_hash,
    }
    event["hash"] = seal(event) if sealed else GENESIS

    def add(conn: Connection) -> None:
        conn.execute(insert(AuditEvent).values(event))

    return add


def hash_of(settings: Settings, event_id: int) -> str:
    def read(conn: Connection) -> str:
        return str(conn.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id)))

    return with_connection(settings.database_url, read)


# -- through the command line, on a log the real service wrote ---------------------------


def test_a_clean_log_verifies(actors: Actors, unit_a: dict[str, Any]) -> None:
    matches(actors, create_referral(actors)["id"])  # a write and a read audit, interleaved
    total = len(event_ids(actors.settings))

    result = verify(actors.settings)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{total} events verified; the newest is event {total}")
    assert hash_of(actors.settings, total) in result.stdout


def test_an_edited_event_is_named(actors: Actors) -> None:
    edited = event_ids(actors.settings)[3]
    as_owner(
        actors.settings,
        sql(f"UPDATE audit_events SET actor_label = 'someone else' WHERE id = {edited}"),
    )
    assert_broken_at(actors.settings, edited, "content changed")


def test_a_deleted_event_is_named(actors: Actors) -> None:
    deleted = event_ids(actors.settings)[3]
    as_owner(actors.settings, sql(f"DELETE FROM audit_events WHERE id = {deleted}"))
    assert_broken_at(actors.settings, deleted, f"missing: event {deleted} is gone")


def test_the_newest_event_deleted_is_named_and_its_id_is_never_reused(actors: Actors) -> None:
    newest = event_ids(actors.settings)[-1]
    as_owner(actors.settings, sql(f"DELETE FROM audit_events WHERE id = {newest}"))
    assert_broken_at(actors.settings, newest, "missing")

    create_referral(actors)  # the service goes on appending

    assert event_ids(actors.settings)[-1] == newest + 1
    assert_broken_at(actors.settings, newest, f"missing: event {newest} is gone")


@pytest.mark.parametrize("sealed", [True, False], ids=["hash made right", "hash left wrong"])
def test_a_back_dated_event_inserted_is_named(actors: Actors, sealed: bool) -> None:
    newest = event_ids(actors.settings)[-1]
    prev = hash_of(actors.settings, newest)
    as_owner(actors.settings, forged(newest + 1, prev, sealed=sealed))
    assert_broken_at(actors.settings, newest + 1, "inserted")


def test_an_event_replaced_by_a_forgery_is_named(actors: Actors) -> None:
    ids = event_ids(actors.settings)
    replaced = ids[3]
    prev = hash_of(actors.settings, ids[2])

    def replace(conn: Connection) -> None:
        conn.execute(text(f"DELETE FROM audit_events WHERE id = {replaced}"))
        forged(replaced, prev, sealed=True)(conn)

    as_owner(actors.settings, replace)
    assert_broken_at(actors.settings, replaced, "replaced")


# -- the checks themselves, on links made up here -----------------------------------------


def chain(count: int) -> list[Link]:
    links, prev = [], GENESIS
    for event_id in range(1, count + 1):
        sealed = f"{event_id:064x}"
        links.append(Link(event_id, prev, sealed, sealed))
        prev = sealed
    return links


def walk(links: list[Link], head: Head) -> Broken | Intact:
    checks = Walk(lambda: head)
    for link in links:
        if broken := checks.feed(link):
            return broken
    return checks.finish(head)


def test_an_event_its_successor_skips_was_inserted() -> None:
    """In a gap in the ids from before the chain (PostgreSQL skips the ids of rolled-back
    inserts), a forged event whose own link is right is still caught: the next skips it."""
    one, two, four = chain(3)
    four = Link(4, two.hash, four.hash, four.hash)
    inserted = Link(3, two.hash, "f" * 64, "f" * 64)
    verdict = walk([one, two, inserted, four], Head(4, four.hash))
    assert verdict == Broken(3, "inserted: event 4 follows event 2, not this one")


def test_the_first_event_deleted_is_named() -> None:
    links = chain(3)
    assert walk(links[1:], Head(3, links[-1].hash)) == Broken(
        1, "missing: event 1 is gone (deleted); event 2 follows it"
    )


def test_an_empty_log_verifies() -> None:
    assert walk([], Head(0, GENESIS)) == Intact(0, Head(0, GENESIS))


# -- appends racing each other -------------------------------------------------------------


def test_concurrent_requests_keep_one_chain(actors: Actors, unit_a: dict[str, Any]) -> None:
    """Matches (read audits, batched by the worker's writer) and new referrals (events of
    their own transactions) at once, through a second app on the same database."""
    referral = create_referral(actors)["id"]
    headers = actors.headers("officer")

    async def run() -> list[int]:
        app = create_app(actors.settings)
        try:
            async with AsyncTestClient(app) as client:
                reads = [
                    client.get(f"{API}/referrals/{referral}/matches", headers=headers)
                    for _ in range(30)
                ]
                writes = [
                    client.post(f"{API}/referrals", json=referral_body(), headers=headers)
                    for _ in range(10)
                ]
                return [r.status_code for r in await asyncio.gather(*reads, *writes)]
        finally:
            await app.state.sessions.kw["bind"].dispose()

    assert sorted(set(asyncio.run(run()))) == [200, 201]
    result = verify(actors.settings)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{len(event_ids(actors.settings))} events verified")


def test_two_workers_read_audits_keep_one_chain(migrated_settings: Settings) -> None:
    """Two read audit writers, each with its own connection, as two worker processes have."""

    async def run() -> None:
        engines = [create_engine(migrated_settings) for _ in range(2)]
        writers = [ReadAudit(engine) for engine in engines]
        tasks = [asyncio.create_task(writer.run()) for writer in writers]
        await asyncio.sleep(0)
        try:
            await asyncio.gather(
                *(
                    writers[i % 2].record(READER, "read", "referral", uuid.uuid4())
                    for i in range(120)
                )
            )
        finally:
            for task in tasks:
                task.cancel()
            for engine in engines:
                await engine.dispose()

    asyncio.run(run())

    def count(conn: Connection) -> int:
        return int(conn.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    assert with_connection(migrated_settings.database_url, count) == 120
    result = verify(migrated_settings)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("120 events verified")


def test_an_append_after_this_process_s_own_is_two_statements(
    migrated_settings: Settings,
) -> None:
    """The process remembers the head its last append left, so the next append is two
    statements, not three. After an append whose transaction rolled back, the head it
    remembers is ahead of the real one: the next append finds that out and reserves ids
    as before. Either way each event follows the one before and the chain verifies."""
    url = migrated_settings.database_url
    before = event_ids(migrated_settings)

    def append(commit: bool) -> list[str]:
        def work(conn: Connection) -> list[str]:
            statements: list[str] = []

            def note(*args: Any) -> None:
                statements.append(str(args[2]).split()[0])

            event.listen(conn, "before_cursor_execute", note)
            row = {
                "at": datetime.now(UTC),
                "actor_key_id": None,
                "actor_role": "admin",
                "actor_label": "test",
                "action": "read",
                "record_type": "referral",
                "record_id": None,
                "detail": {"commit": commit},
            }
            audit_chain.append(conn, [row])
            return statements

        return with_connection(url, work, commit=commit)

    assert [append(True), append(True), append(False), append(True), append(True)] == [
        ["UPDATE", "INSERT", "UPDATE"],  # the first of this process: ids reserved
        ["UPDATE", "INSERT"],
        ["UPDATE", "INSERT"],  # rolled back
        ["UPDATE", "UPDATE", "INSERT", "UPDATE"],  # the remembered head was not the head
        ["UPDATE", "INSERT"],
    ]
    first = (before[-1] if before else 0) + 1
    assert event_ids(migrated_settings) == [*before, *range(first, first + 4)]
    result = verify(migrated_settings)
    assert result.exit_code == 0, result.output


# -- the migration that brought the chain ----------------------------------------------------


def test_a_log_from_before_the_chain_verifies_after_the_upgrade(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Events of revision 0002, with a gap in their ids as PostgreSQL leaves after a
    rolled-back insert, are chained in id order; new ones follow, and a downgrade takes
    the columns away but keeps the log append-only."""
    url = empty_database_url
    migrate(url, "0002")

    def old_events(conn: Connection) -> None:
        for event_id in (1, 2, 5):
            conn.execute(
                text(
                    "INSERT INTO audit_events (id, at, actor_role, actor_label, action, "
                    "record_type, record_id, detail) VALUES (:id, :at, 'admin', 'before', "
                    "'create', 'authority', :record, :detail)"
                ),
                {
                    "id": event_id,
                    "at": datetime(2026, 11, 30, 12, event_id, 0, 123456, tzinfo=UTC),
                    "record": f"E0800000{event_id}",
                    "detail": '{"fields": ["name", "région"], "n": 1}',
                },
            )

    with_connection(url, old_events, commit=True)
    migrate(url)
    settings = settings_for(url, tmp_path)
    result = verify(settings)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("3 events verified; the newest is event 5")

    asyncio.run(issue_key(settings, Role.ADMIN, "after the upgrade"))
    assert event_ids(settings) == [1, 2, 5, 6]
    assert verify(settings).stdout.startswith("4 events verified; the newest is event 6")

    command.downgrade(alembic_config(url), "0002")

    def columns(conn: Connection) -> set[str]:
        return {column["name"] for column in inspect(conn).get_columns("audit_events")}

    assert not {"prev_hash", "hash"} & with_connection(url, columns)
    with pytest.raises(DBAPIError, match="append-only"):
        with_connection(url, sql("DELETE FROM audit_events"), commit=True)
