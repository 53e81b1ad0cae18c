"""Seeding a migrated database: the dataset arrives whole, secrets encrypted, once only.

Uses conftest's `migrated_settings`, so it runs on SQLite and, when configured, on
PostgreSQL too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from fixtures import Dataset, generate
from fixtures.seeding import SeedReport, seed_database
from placement.config import Settings
from placement.consistency import DISAGREEING, InconsistentUnits, check_unit_statuses
from placement.crypto import load_cipher
from placement.db import create_engine
from placement.models import (
    AuditEvent,
    Authority,
    Placement,
    Protocol,
    ProtocolMember,
    Provider,
    Referral,
    RehousingOption,
    Scheme,
    Unit,
)
from tests.conftest import with_connection

TABLES: dict[str, Any] = {
    "authorities": Authority,
    "providers": Provider,
    "schemes": Scheme,
    "units": Unit,
    "protocols": Protocol,
    "protocol_members": ProtocolMember,
    "rehousing_options": RehousingOption,
    "referrals": Referral,
    "placements": Placement,
}


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return generate("demo", 1)


def seed(settings: Settings, scale: str = "demo") -> SeedReport:
    return asyncio.run(seed_database(settings, scale, 1))


def counts(settings: Settings) -> dict[str, int]:
    def work(conn: Connection) -> dict[str, int]:
        tables = TABLES | {"audit_events": AuditEvent}
        return {
            name: conn.scalar(select(func.count()).select_from(model)) or 0
            for name, model in tables.items()
        }

    return with_connection(settings.database_url, work)


def test_seeding_loads_the_whole_dataset(migrated_settings: Settings, demo: Dataset) -> None:
    report = seed(migrated_settings)

    assert report.seeded
    assert dict(report.counts) == demo.counts()
    assert counts(migrated_settings) == demo.counts() | {"audit_events": 1}
    assert "300 units" in str(report)

    def work(conn: Connection) -> tuple[set[Any], Any]:
        ids = set(conn.scalars(select(Scheme.id)))
        event = conn.execute(select(AuditEvent)).one()
        return ids, event

    scheme_ids, event = with_connection(migrated_settings.database_url, work)
    assert scheme_ids == {s.id for s in demo.schemes}  # the same seed gives the same ids
    assert (event.actor_role, event.action, event.record_type, event.record_id) == (
        "system",
        "seed",
        "dataset",
        "demo",
    )
    assert event.detail["counts"] == demo.counts()


def test_secrets_are_stored_encrypted(migrated_settings: Settings, demo: Dataset) -> None:
    seed(migrated_settings)

    def work(conn: Connection) -> tuple[dict[Any, bytes], dict[Any, bytes], dict[Any, bytes]]:
        return (
            dict(conn.execute(select(Scheme.id, Scheme.location_ciphertext)).tuples().all()),
            dict(
                conn.execute(select(RehousingOption.id, RehousingOption.address_ciphertext))
                .tuples()
                .all()
            ),
            dict(conn.execute(select(Referral.id, Referral.details_ciphertext)).tuples().all()),
        )

    locations, addresses, details = with_connection(migrated_settings.database_url, work)
    cipher = load_cipher(migrated_settings)
    for scheme in demo.schemes:
        stored = bytes(locations[scheme.id])
        assert scheme.location["address"].encode() not in stored
        assert scheme.location["postcode"].encode() not in stored
        assert cipher.decrypt_json(stored) == scheme.location
    for option in demo.rehousing_options:
        stored = bytes(addresses[option.id])
        assert option.address["address"].encode() not in stored
        assert cipher.decrypt_json(stored) == option.address
    for referral in demo.referrals:
        assert cipher.decrypt_json(bytes(details[referral.id])) == referral.details


def test_a_second_run_changes_nothing(migrated_settings: Settings) -> None:
    seed(migrated_settings)
    before = counts(migrated_settings)

    again = seed(migrated_settings, "region")

    assert not again.seeded and not again.counts
    assert "already holds schemes" in str(again)
    assert counts(migrated_settings) == before


def test_authorities_already_present_are_kept(migrated_settings: Settings) -> None:
    def add_renamed_manchester(conn: Connection) -> None:
        conn.execute(
            insert(Authority).values(
                code="E08000003", name="Manchester (renamed)", region="North West"
            )
        )

    with_connection(migrated_settings.database_url, add_renamed_manchester, commit=True)

    report = seed(migrated_settings)

    assert report.counts["authorities"] == 295
    name = with_connection(
        migrated_settings.database_url,
        lambda conn: conn.scalar(select(Authority.name).where(Authority.code == "E08000003")),
    )
    assert name == "Manchester (renamed)"


def test_an_unknown_scale_writes_nothing(migrated_settings: Settings) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        seed(migrated_settings, "county")
    assert set(counts(migrated_settings).values()) == {0}


def test_seeded_units_are_only_in_states_the_service_reaches(migrated_settings: Settings) -> None:
    """No unit held without a live offer (none is seeded held), and every occupied unit
    has a current placement of a placed household that fits it."""
    seed(migrated_settings)

    def work(conn: Connection) -> tuple[list[Any], dict[str, int], int, set[str]]:
        wrong = list(conn.execute(DISAGREEING))
        rows = conn.execute(select(Unit.status, func.count()).group_by(Unit.status)).all()
        statuses = {str(status): int(count) for status, count in rows}
        occupied_units = {
            uid for (uid,) in conn.execute(select(Unit.id).where(Unit.status == "occupied"))
        }
        placed = conn.execute(
            select(Placement.unit_id, Referral.status)
            .join(Referral, Referral.id == Placement.referral_id)
            .where(Placement.moved_out_at.is_(None))
        ).all()
        assert {unit_id for unit_id, _ in placed} == occupied_units
        return wrong, statuses, len(placed), {str(status) for _, status in placed}

    wrong, statuses, placements, referral_statuses = with_connection(
        migrated_settings.database_url, work
    )
    assert wrong == []
    assert "held" not in statuses
    assert statuses["occupied"] == placements > 200
    assert referral_statuses == {"placed"}


def test_the_check_after_seeding_refuses_a_unit_occupied_without_a_placement(
    migrated_settings: Settings,
) -> None:
    seed(migrated_settings)

    def occupy_one_by_hand(conn: Connection) -> None:
        free = conn.scalar(select(Unit.id).where(Unit.status == "available").limit(1))
        conn.execute(update(Unit).where(Unit.id == free).values(status="occupied"))

    with_connection(migrated_settings.database_url, occupy_one_by_hand, commit=True)

    async def check() -> None:
        engine = create_engine(migrated_settings)
        try:
            async with engine.connect() as conn:
                await check_unit_statuses(conn)
        finally:
            await engine.dispose()

    with pytest.raises(InconsistentUnits, match=r"\(occupied\)"):
        asyncio.run(check())
