"""A small history for the report tests, written through the API as live use writes it,
then moved back in time into ended quarters (reports cover only those).

Manchester's refuge and dispersed schemes and a Stockport refuge; Manchester's officer
and Stockport's integration place households (some across the border under the Greater
Manchester protocol), providers decline some offers, some households move out, some
referrals close unable to be supported. Counts are chosen so some cells are small.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from placement.models import Offer, Placement, Referral, Unit
from placement.reports.period import Period, last_ended_quarter, quarter_start
from tests.conftest import API, STOCKPORT, Actors, protocol_body, with_connection
from tests.placing import add_scheme, add_unit, create_referral, make_offer, referral_body


@dataclass
class World:
    actors: Actors
    latest: Period
    """The last ended quarter; the one before it holds the older half of the history."""
    period: Period
    protocol_id: str
    referrals: list[str] = field(default_factory=list)


def _post(actors: Actors, who: str, path: str, body: Any = None) -> dict[str, Any]:
    response = actors.post(who, f"{API}{path}", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def build(actors: Actors) -> World:
    latest = last_ended_quarter(datetime.now(UTC).date())
    earlier_start = quarter_start(latest.start - timedelta(days=1))
    world = World(
        actors,
        latest,
        Period(earlier_start, latest.end),
        _post(actors, "admin", "/protocols", protocol_body())["id"],
    )
    refuge = add_scheme(actors, name="Refuge M")
    dispersed = add_scheme(actors, name="Dispersed M", scheme_type="dispersed_accommodation")
    stockport = add_scheme(
        actors,
        who="provider_b",
        name="Refuge S",
        authority_code=STOCKPORT[0],
        postcode="SK1 3XE",
        latitude=53.4083,
        longitude=-2.1494,
    )
    units = {
        "refuge": [add_unit(actors, refuge["id"], label=f"R{i}")["id"] for i in range(12)],
        "dispersed": [add_unit(actors, dispersed["id"], label=f"D{i}")["id"] for i in range(3)],
        "stockport": [
            add_unit(actors, stockport["id"], who="provider_b", label=f"S{i}")["id"]
            for i in range(2)
        ],
    }
    shifts: dict[str, int] = {}
    today = datetime.now(UTC).date()
    recent = (today - (latest.end - timedelta(days=20))).days
    older = (today - (earlier_start + timedelta(days=30))).days

    def referral(who: str, shift: int, **household: Any) -> str:
        made = create_referral(actors, who, referral_body(**household))
        shifts[made["id"]] = shift
        world.referrals.append(made["id"])
        return str(made["id"])

    def placed(who: str, unit: str, provider: str, shift: int, **household: Any) -> dict[str, Any]:
        rid = referral(who, shift, **household)
        offer = make_offer(actors, rid, unit, who)
        return dict(_post(actors, provider, f"/offers/{offer['id']}/accept")["placement"])

    stays = []
    # Manchester's own: 7 in its refuge now, 2 earlier; 2 dispersed (a small count).
    for i in range(7):
        stays.append(placed("officer", units["refuge"][i], "provider_a", recent))
    for i in range(7, 9):
        stays.append(placed("officer", units["refuge"][i], "provider_a", older))
    for i in range(2):
        stays.append(placed("officer", units["dispersed"][i], "provider_a", recent))
    # Stockport places 3 into Manchester's refuge; Manchester 1 into Stockport's.
    for i in range(9, 12):
        stays.append(placed("integration", units["refuge"][i], "provider_a", recent))
    stays.append(placed("officer", units["stockport"][0], "provider_b", recent))
    # Move-outs: 5 of the recent Manchester refuge stays.
    for reason, placement in zip(
        ["no_longer_needed"] * 3 + ["settled_social", "left_without_notice"], stays[:5], strict=True
    ):
        _post(actors, "officer", f"/placements/{placement['id']}/move-out", {"reason": reason})
    # Declined offers (the unit goes back to available).
    for reason in ["household_declined"] * 6 + ["risk_too_high"]:
        rid = referral("officer", recent)
        offer = make_offer(actors, rid, units["dispersed"][2])
        _post(actors, "provider_a", f"/offers/{offer['id']}/decline", {"reason": reason})
    # Referrals closed unable to be supported.
    for reason in ["no_space"] * 6 + ["ineligible"] * 2:
        rid = referral("officer", recent)
        _post(
            actors,
            "officer",
            f"/referrals/{rid}/close",
            {"reason": "closed", "unable_reason": reason},
        )
    _move_back(actors, shifts, unit_shift=older + 60)
    return world


def _move_back(actors: Actors, shifts: dict[str, int], unit_shift: int) -> None:
    """Every record of each referral moved back by its shift (in days); units made earlier."""

    def move(conn: Connection) -> None:
        for rid, days in shifts.items():
            back = timedelta(days=days)
            key = uuid.UUID(rid)
            referred = conn.execute(
                select(Referral.referred_on, Referral.outcome_at).where(Referral.id == key)
            ).one()
            conn.execute(
                update(Referral)
                .where(Referral.id == key)
                .values(
                    referred_on=referred.referred_on - back,
                    outcome_at=referred.outcome_at - back if referred.outcome_at else None,
                )
            )
            for offer in conn.execute(
                select(Offer.id, Offer.decided_at).where(Offer.referral_id == key)
            ):
                if offer.decided_at:
                    conn.execute(
                        update(Offer)
                        .where(Offer.id == offer.id)
                        .values(decided_at=offer.decided_at - back)
                    )
            for stay in conn.execute(
                select(Placement.id, Placement.moved_in_at, Placement.moved_out_at).where(
                    Placement.referral_id == key
                )
            ):
                conn.execute(
                    update(Placement)
                    .where(Placement.id == stay.id)
                    .values(
                        moved_in_at=stay.moved_in_at - back,
                        moved_out_at=stay.moved_out_at - back if stay.moved_out_at else None,
                    )
                )
        for unit in conn.execute(select(Unit.id, Unit.created_at)):
            conn.execute(
                update(Unit)
                .where(Unit.id == unit.id)
                .values(created_at=unit.created_at - timedelta(days=unit_shift))
            )

    with_connection(actors.settings.database_url, move, commit=True)


def today() -> date:
    return datetime.now(UTC).date()
