"""Migration 0009 on records written before it: the old free move-on outcomes map to the
fixed reasons support ended, and placed referrals get their outcome from their
placement's scheme; on SQLite and PostgreSQL, and back down again."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, bindparam, insert, text
from sqlalchemy.exc import IntegrityError

from placement.db import alembic_config, migrate
from placement.models import (
    Authority,
    PerpetratorMove,
    Placement,
    Provider,
    Referral,
    RehousingOption,
    Scheme,
    Unit,
)
from tests.conftest import with_connection

OLD_TO_NEW = {
    "settled_accommodation": "settled_social",
    "another_safe_accommodation": "other_safe_accommodation",
    "family_or_friends": "other",
    "returned_home_perpetrator_removed": "no_longer_needed",
    "returned_to_perpetrator": "returned_to_perpetrator",
    "left_without_notice": "left_without_notice",
    "other": "other",
    "something typed by hand": "other",
}


def _old_records(conn: Connection) -> dict[str, Any]:
    """A scheme with one unit per old outcome, each with a referral placed and moved out,
    plus one open referral; returns the ids."""
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    conn.execute(insert(Authority).values(code="E08000003", name="Manchester", region="North West"))
    provider_id, scheme_id = uuid.uuid4(), uuid.uuid4()
    conn.execute(insert(Provider).values(id=provider_id, name="P", specialisms=[], **stamps))
    conn.execute(
        insert(Scheme).values(
            id=scheme_id,
            provider_id=provider_id,
            authority_code="E08000003",
            name="S",
            scheme_type="dispersed_accommodation",
            postcode_district="M14",
            location_ciphertext=b"sealed",
            gender_policy="women_only",
            max_risk_level="high",
            accepts_nrpf=False,
            accepts_pets=False,
            languages=[],
            support=[],
            weekly_cost=0.0,
            **stamps,
        )
    )
    placements: dict[str, uuid.UUID] = {}
    referrals: dict[str, uuid.UUID] = {}
    for index, old in enumerate(OLD_TO_NEW):
        unit_id, referral_id, placement_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        conn.execute(
            insert(Unit).values(
                id=unit_id,
                scheme_id=scheme_id,
                label=f"Room {index}",
                bedrooms=1,
                bed_spaces=2,
                cots=0,
                access_features=[],
                status="available",
                available_from=date.today(),
                version=1,
                **stamps,
            )
        )
        conn.execute(_referral(referral_id, f"R{index}", "placed", stamps))
        conn.execute(
            insert(Placement).values(
                id=placement_id,
                referral_id=referral_id,
                unit_id=unit_id,
                offer_id=None,
                moved_in_at=now - timedelta(days=40 + index),
                moved_out_at=now - timedelta(days=1),
                **stamps,
            )
        )
        conn.execute(
            text("UPDATE placements SET move_on_outcome = :old WHERE id = :id").bindparams(
                bindparam("id", type_=Placement.__table__.c.id.type)
            ),
            {"old": old, "id": placement_id},
        )
        placements[old] = placement_id
        referrals[old] = referral_id
    open_id = uuid.uuid4()
    conn.execute(_referral(open_id, "OPEN", "open", stamps))
    return {"placements": placements, "referrals": referrals, "open": open_id}


def _referral(referral_id: uuid.UUID, reference: str, status: str, stamps: dict[str, Any]) -> Any:
    return insert(Referral).values(
        id=referral_id,
        reference=reference,
        authority_code="E08000003",
        status=status,
        risk_level="high",
        marac=False,
        referred_on=date.today(),
        details_ciphertext=b"sealed",
        **stamps,
    )


def test_old_move_on_outcomes_and_placed_referrals_are_mapped(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0006")
    ids = with_connection(empty_database_url, _old_records, commit=True)
    migrate(empty_database_url)

    def read(conn: Connection) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, tuple[Any, ...]]]:
        reasons = {
            row.id: row.move_out_reason
            for row in conn.execute(Placement.__table__.select())  # type: ignore[attr-defined]
        }
        outcomes = {
            row.id: (row.outcome, row.outcome_scheme_type, row.unable_reason)
            for row in conn.execute(Referral.__table__.select())  # type: ignore[attr-defined]
        }
        return reasons, outcomes

    reasons, outcomes = with_connection(empty_database_url, read)
    assert {old: reasons[pid] for old, pid in ids["placements"].items()} == OLD_TO_NEW
    for referral_id in ids["referrals"].values():
        assert outcomes[referral_id] == ("placed", "dispersed_accommodation", None)
    assert outcomes[ids["open"]] == (None, None, None)

    command.downgrade(config, "0006")

    def old_outcomes(conn: Connection) -> set[str]:
        return set(conn.execute(text("SELECT move_on_outcome FROM placements")).scalars())

    assert with_connection(empty_database_url, old_outcomes) == set(OLD_TO_NEW.values())
    migrate(empty_database_url)  # and up again


def test_at_most_one_live_perpetrator_move_per_option_and_per_referral(
    empty_database_url: str,
) -> None:
    migrate(empty_database_url)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}

    def setup(conn: Connection) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        conn.execute(
            insert(Authority).values(code="E08000003", name="Manchester", region="North West")
        )
        options = [uuid.uuid4() for _ in range(2)]
        for index, option_id in enumerate(options):
            conn.execute(_option(option_id, f"O{index}", stamps))
        referrals = [uuid.uuid4() for _ in range(3)]
        for index, referral_id in enumerate(referrals):
            conn.execute(_referral(referral_id, f"R{index}", "open", stamps))
        conn.execute(_move(referrals[0], options[0], "withdrawn", stamps))
        conn.execute(_move(referrals[1], options[0], "held", stamps))
        return options, referrals

    options, referrals = with_connection(empty_database_url, setup, commit=True)
    # Another household for the held option; another option for the held household.
    for referral_id, option_id in ((referrals[2], options[0]), (referrals[1], options[1])):

        def second(conn: Connection, rid: uuid.UUID = referral_id, oid: Any = option_id) -> None:
            conn.execute(_move(rid, oid, "accepted", stamps))

        with pytest.raises(IntegrityError):
            with_connection(empty_database_url, second, commit=True)
    # A move that is over does not count: the first household may be held again.
    with_connection(
        empty_database_url,
        lambda conn: conn.execute(_move(referrals[0], options[1], "held", stamps)),
        commit=True,
    )


def _option(option_id: uuid.UUID, name: str, stamps: dict[str, Any]) -> Any:
    return insert(RehousingOption).values(
        id=option_id,
        authority_code="E08000003",
        name=name,
        postcode_district="M13",
        latitude=53.46,
        longitude=-2.23,
        address_ciphertext=b"sealed",
        max_risk_level="high",
        accepts_conditions=[],
        bed_spaces=1,
        status="occupied",
        available_from=date.today(),
        weekly_cost=0.0,
        version=1,
        **stamps,
    )


def _move(referral_id: uuid.UUID, option_id: uuid.UUID, status: str, stamps: dict[str, Any]) -> Any:
    now = stamps["created_at"]
    return insert(PerpetratorMove).values(
        id=uuid.uuid4(),
        referral_id=referral_id,
        option_id=option_id,
        status=status,
        held_at=now,
        accepted_at=now if status == "accepted" else None,
        withdrawn_at=now if status == "withdrawn" else None,
        **stamps,
    )
