"""Alembic migrations on SQLite and PostgreSQL: up from nothing, the constraints the
database itself must enforce (partial unique indexes, append-only audit), down to base and
up again."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from placement import audit_chain
from placement.db import alembic_config, migrate
from placement.enums import (
    OfferStatus,
    ReferralStatus,
    RiskLevel,
    SchemeType,
    UnitStatus,
)
from placement.models import (
    AuditEvent,
    Authority,
    Offer,
    Placement,
    Provider,
    Referral,
    Scheme,
    Unit,
)
from tests.conftest import with_connection

TABLES = {
    "alembic_version",
    "authorities",
    "providers",
    "schemes",
    "units",
    "protocols",
    "protocol_members",
    "rehousing_options",
    "referrals",
    "offers",
    "placements",
    "api_keys",
    "audit_events",
    "decision_snapshots",
    "audit_chain_head",
    "users",
    "page_sessions",
}


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def version(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def test_upgrade_creates_the_schema(empty_database_url: str) -> None:
    assert with_connection(empty_database_url, tables) == set()
    migrate(empty_database_url)
    assert with_connection(empty_database_url, tables) >= TABLES
    assert with_connection(empty_database_url, version) == head_revision(empty_database_url)
    migrate(empty_database_url)  # a no-op when already current
    assert with_connection(empty_database_url, version) == head_revision(empty_database_url)


def test_partial_unique_indexes_exist(empty_database_url: str) -> None:
    migrate(empty_database_url)

    def indexes(conn: Connection) -> dict[str, dict[str, object]]:
        found = {}
        for table in ("offers", "placements"):
            for index in inspect(conn).get_indexes(table):
                found[str(index["name"])] = dict(index)
        return found

    found = with_connection(empty_database_url, indexes)
    assert found["uq_offers_live_unit"]["unique"]
    assert found["uq_offers_live_unit"]["column_names"] == ["unit_id"]
    assert found["uq_placements_current_unit"]["unique"]
    assert found["uq_placements_current_unit"]["column_names"] == ["unit_id"]


def test_every_index_the_models_declare_is_migrated(empty_database_url: str) -> None:
    """The models' indexes (which the queries are written for) are the migrations' too:
    each table's indexed column lists, a unique constraint counting as its index (a
    library's model may declare as an index what a migration made a constraint). An
    index declared on a model but never migrated would exist in no database."""
    migrate(empty_database_url)
    metadata = Authority.metadata

    def migrated(conn: Connection) -> dict[str, set[tuple[str | None, ...]]]:
        found: dict[str, set[tuple[str | None, ...]]] = {}
        inspector = inspect(conn)
        for table in metadata.tables:
            found[table] = {tuple(i["column_names"]) for i in inspector.get_indexes(table)}
            found[table] |= {
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            }
        return found

    found = with_connection(empty_database_url, migrated)
    for name, table in metadata.tables.items():
        declared = {tuple(c.name for c in index.columns) for index in table.indexes}
        assert declared <= found[name], (name, declared - found[name])
    assert ("authority_code", "referred_on", "risk_level") in found["referrals"]
    assert ("moved_in_at",) in found["placements"]


def _registry(session: Session) -> tuple[uuid.UUID, uuid.UUID]:
    """A unit and a referral to hang offers and placements on; returns their ids."""
    session.add(Authority(code="E08000003", name="Manchester", region="North West"))
    provider = Provider(name="P", specialisms=[])
    session.add(provider)
    session.flush()
    scheme = Scheme(
        provider_id=provider.id,
        authority_code="E08000003",
        name="S",
        scheme_type=SchemeType.REFUGE,
        postcode_district="M14",
        location_ciphertext=b"sealed",
        gender_policy="women_only",
        max_risk_level=RiskLevel.HIGH,
    )
    session.add(scheme)
    session.flush()
    unit = Unit(
        scheme_id=scheme.id,
        label="Room",
        bedrooms=1,
        bed_spaces=2,
        status=UnitStatus.AVAILABLE,
        available_from=date.today(),
    )
    referral = Referral(
        reference="R1",
        authority_code="E08000003",
        status=ReferralStatus.OPEN,
        risk_level=RiskLevel.HIGH,
        referred_on=date.today(),
        details_ciphertext=b"sealed",
    )
    session.add_all([unit, referral])
    session.flush()
    return unit.id, referral.id


def _offer(unit_id: uuid.UUID, referral_id: uuid.UUID, status: OfferStatus) -> Offer:
    return Offer(
        referral_id=referral_id,
        unit_id=unit_id,
        status=status,
        expires_at=datetime.now(UTC) + timedelta(hours=4),
    )


def test_at_most_one_live_offer_per_unit(empty_database_url: str) -> None:
    migrate(empty_database_url)

    def setup(conn: Connection) -> tuple[uuid.UUID, uuid.UUID]:
        with Session(bind=conn) as session:
            unit_id, referral_id = _registry(session)
            session.add(_offer(unit_id, referral_id, OfferStatus.EXPIRED))
            session.add(_offer(unit_id, referral_id, OfferStatus.WITHDRAWN))
            session.add(_offer(unit_id, referral_id, OfferStatus.LIVE))
            session.commit()
        return unit_id, referral_id

    unit_id, referral_id = with_connection(empty_database_url, setup, commit=True)

    def second_live_offer(conn: Connection) -> None:
        with Session(bind=conn) as session:
            session.add(_offer(unit_id, referral_id, OfferStatus.LIVE))
            session.flush()

    with pytest.raises(IntegrityError):
        with_connection(empty_database_url, second_live_offer)

    def live_offers(conn: Connection) -> int:
        rows = conn.execute(select(Offer.id).where(Offer.status == OfferStatus.LIVE)).all()
        return len(rows)

    assert with_connection(empty_database_url, live_offers) == 1


def test_at_most_one_current_placement_per_unit(empty_database_url: str) -> None:
    migrate(empty_database_url)
    now = datetime.now(UTC)

    def setup(conn: Connection) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
        with Session(bind=conn) as session:
            unit_id, referral_id = _registry(session)
            offers = [_offer(unit_id, referral_id, OfferStatus.ACCEPTED) for _ in range(3)]
            session.add_all(offers)
            session.flush()
            session.add(
                Placement(
                    referral_id=referral_id,
                    unit_id=unit_id,
                    offer_id=offers[0].id,
                    moved_in_at=now - timedelta(days=30),
                    moved_out_at=now - timedelta(days=1),
                )
            )
            session.add(
                Placement(
                    referral_id=referral_id, unit_id=unit_id, offer_id=offers[1].id, moved_in_at=now
                )
            )
            session.commit()
            return unit_id, referral_id, [o.id for o in offers]

    unit_id, referral_id, offer_ids = with_connection(empty_database_url, setup, commit=True)

    def second_current(conn: Connection) -> None:
        with Session(bind=conn) as session:
            session.add(
                Placement(
                    referral_id=referral_id, unit_id=unit_id, offer_id=offer_ids[2], moved_in_at=now
                )
            )
            session.flush()

    with pytest.raises(IntegrityError):
        with_connection(empty_database_url, second_current)


def _add_event(conn: Connection) -> int:
    event: dict[str, Any] = {
        "at": datetime.now(UTC),
        "actor_key_id": None,
        "actor_role": "admin",
        "actor_label": "test",
        "action": "create",
        "record_type": "authority",
        "record_id": "E08000003",
        "detail": {},
    }
    audit_chain.append(conn, [event])
    return int(conn.execute(select(func.max(AuditEvent.id))).scalar_one())


def _events(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(text("SELECT id, action FROM audit_events ORDER BY id"))
    return [(int(r[0]), str(r[1])) for r in rows]


def _execute(statement: str, conn: Connection) -> None:
    conn.execute(text(statement))


def assert_audit_is_append_only(url: str) -> None:
    event_id = with_connection(url, _add_event, commit=True)
    for statement in (
        f"UPDATE audit_events SET action = 'forged' WHERE id = {event_id}",
        f"DELETE FROM audit_events WHERE id = {event_id}",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with_connection(url, partial(_execute, statement), commit=True)
    assert (event_id, "create") in with_connection(url, _events)


def test_audit_events_are_append_only_in_the_database(empty_database_url: str) -> None:
    migrate(empty_database_url)
    assert_audit_is_append_only(empty_database_url)


def test_downgrade_to_base_and_up_again(empty_database_url: str) -> None:
    migrate(empty_database_url)
    config = alembic_config(empty_database_url)
    command.downgrade(config, "base")
    assert with_connection(empty_database_url, tables) <= {"alembic_version"}
    assert with_connection(empty_database_url, version) is None
    migrate(empty_database_url)
    assert with_connection(empty_database_url, tables) >= TABLES
    assert with_connection(empty_database_url, version) == head_revision(empty_database_url)
    # The triggers came back with the tables.
    assert_audit_is_append_only(empty_database_url)
