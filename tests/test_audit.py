"""The read audit writer, against a real database: batched, and nothing read unrecorded,
not even by a request that is refused after it read."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.sessions import untouched
from placement import audit
from placement.audit import ReadAudit
from placement.config import Settings
from placement.db import create_engine
from placement.enums import Role
from placement.errors import AuditUnavailable
from placement.models import AuditEvent, Offer
from placement.security import Principal
from tests.conftest import API, Actors, assert_problem, with_connection
from tests.placing import (
    add_scheme,
    add_unit,
    audit_for,
    create_referral,
    get_offer,
    make_offer,
    offer,
)

READER = Principal(
    key_id=uuid.uuid4(), role=Role.HOUSING_OFFICER, label="reader", authority_code="E08000003"
)


def test_concurrent_reads_are_each_on_record_when_their_call_returns(
    migrated_settings: Settings,
) -> None:
    async def run() -> tuple[int, int]:
        engine = create_engine(migrated_settings)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        reads = ReadAudit(engine)
        writer = asyncio.create_task(reads.run())
        await asyncio.sleep(0)
        try:
            ids = [uuid.uuid4() for _ in range(40)]
            await asyncio.gather(*(reads.record(READER, "read", "referral", i) for i in ids))
            async with sessions() as session:
                recorded = await session.scalar(
                    select(func.count()).where(AuditEvent.record_id.in_([str(i) for i in ids]))
                )
                actors = await session.scalar(
                    select(func.count(func.distinct(AuditEvent.actor_key_id)))
                )
            return int(recorded or 0), int(actors or 0)
        finally:
            writer.cancel()
            await engine.dispose()

    assert asyncio.run(run()) == (40, 1)


def test_without_its_writer_a_read_is_refused(migrated_settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(migrated_settings)
        try:
            reads = ReadAudit(engine)
            await reads.record(READER, "read", "referral", uuid.uuid4())
        finally:
            await engine.dispose()

    with pytest.raises(AuditUnavailable):
        asyncio.run(run())


# -- a household read is on record whatever the request's outcome ------------------------


def offer_checks(actors: Actors, referral_id: str) -> int:
    return sum(e["action"] == "offer_check" for e in audit_for(actors, "referral", referral_id))


def test_an_offer_refused_for_a_rule_it_breaks_still_records_the_household_read(
    shared_actors: Actors,
) -> None:
    actors = shared_actors
    unit = add_unit(actors, add_scheme(actors, accepts_nrpf=False)["id"])
    referral = create_referral(actors, nrpf=True)

    problem = assert_problem(offer(actors, referral["id"], unit["id"]), 422, "unit_id")

    assert "NRPF" in problem["detail"]  # the refusal tells what the household needs
    assert offer_checks(actors, referral["id"]) == 1


def test_an_offer_of_a_unit_someone_else_holds_still_records_the_household_read(
    shared_actors: Actors,
) -> None:
    actors = shared_actors
    unit = add_unit(actors, add_scheme(actors)["id"])
    make_offer(actors, create_referral(actors)["id"], unit["id"])
    referral = create_referral(actors)

    assert_problem(offer(actors, referral["id"], unit["id"]), 409)

    assert offer_checks(actors, referral["id"]) == 1


def test_an_allocation_that_first_releases_a_run_out_hold_still_records_its_reads(
    actors: Actors,
) -> None:
    """The run frees the expired hold (a write of its transaction) and reads households
    (committed by the read audit's own writer): on SQLite, holding the write lock while
    waiting for that writer stalled the run until the lock timed out, then refused it."""
    unit = add_unit(actors, add_scheme(actors)["id"])
    held = make_offer(actors, create_referral(actors)["id"], unit["id"])
    waiting = create_referral(actors)["id"]

    def run_out(conn: Connection) -> None:
        conn.execute(
            update(Offer)
            .where(Offer.id == uuid.UUID(held["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    with_connection(actors.settings.database_url, run_out, commit=True)

    response = actors.post(
        "officer", f"{API}/allocations", {"referral_ids": [waiting], "time_limit_s": 5}
    )

    assert response.status_code == 200, response.text
    assert response.json()["placed"] == 1
    assert next(e["action"] for e in audit_for(actors, "referral", waiting)) == "allocate"
    assert get_offer(actors, held["id"])["status"] == "expired"


def test_an_event_noted_before_any_statement_keeps_its_session_to_be_committed(
    migrated_settings: Settings,
) -> None:
    """A session with an audit event waiting, though it began no transaction, is not one
    the request may let go unended (`api.sessions`): its commit writes the event."""

    async def run() -> int:
        engine = create_engine(migrated_settings)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        record_id = uuid.uuid4()
        try:
            async with sessions() as session:
                assert untouched(session)
                audit.record(session, READER, "export", "report", record_id)
                assert not session.in_transaction() and audit.pending(session)
                assert not untouched(session)
                await session.commit()
                assert not audit.pending(session)
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count()).where(AuditEvent.record_id == str(record_id))
                )
            return int(count or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == 1
