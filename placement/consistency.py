"""The invariants between statuses and the records behind them, over the whole register.

A unit is held exactly when it has a live offer and occupied exactly when it has a
current placement; nothing else moves it there (see `placement.holds`). A rehousing
option with a live perpetrator move is occupied. A referral's outcome agrees with its
records: placed ones have a placement in a scheme of the type recorded, perpetrator
moves an accepted move, and only closed referrals are unable to be supported. Seeding
runs these last, in its own transaction, so a dataset the service could not have
reached is never committed.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from placement.enums import (
    OfferStatus,
    PerpetratorMoveStatus,
    ReferralOutcome,
    ReferralStatus,
    RehousingStatus,
    UnitStatus,
)
from placement.models import (
    Offer,
    PerpetratorMove,
    Placement,
    Referral,
    ReferralCharacteristics,
    RehousingOption,
    Scheme,
    Unit,
)

_LIVE_OFFER = exists().where(Offer.unit_id == Unit.id, Offer.status == OfferStatus.LIVE)
_CURRENT_PLACEMENT = exists().where(Placement.unit_id == Unit.id, Placement.moved_out_at.is_(None))
DISAGREEING = select(Unit.id, Unit.status).where(
    Unit.retired_at.is_(None),
    or_(
        and_(Unit.status == UnitStatus.HELD, ~_LIVE_OFFER),
        and_(Unit.status != UnitStatus.HELD, _LIVE_OFFER),
        and_(Unit.status == UnitStatus.OCCUPIED, ~_CURRENT_PLACEMENT),
        and_(Unit.status != UnitStatus.OCCUPIED, _CURRENT_PLACEMENT),
    ),
)
"""Units whose status disagrees with their offers and placements."""


class InconsistentUnits(Exception):
    """Some units' statuses are not what their offers and placements make them."""


async def check_unit_statuses(conn: AsyncConnection) -> None:
    """Raise `InconsistentUnits` naming (up to ten of) the units that disagree."""
    wrong = (await conn.execute(DISAGREEING.limit(10))).all()
    if wrong:
        listed = ", ".join(f"{unit_id} ({status})" for unit_id, status in wrong)
        raise InconsistentUnits(
            "units whose status disagrees with their offers and placements (held needs a "
            f"live offer, occupied a current placement): {listed}"
        )


_LIVE_MOVE = exists().where(
    PerpetratorMove.option_id == RehousingOption.id,
    PerpetratorMove.status.in_((PerpetratorMoveStatus.HELD, PerpetratorMoveStatus.ACCEPTED)),
)
DISAGREEING_OPTIONS = select(RehousingOption.id, RehousingOption.status).where(
    RehousingOption.status != RehousingStatus.OCCUPIED, _LIVE_MOVE
)
"""Rehousing options booked by a live perpetrator move that are not occupied."""

_PLACED_AS_RECORDED = (
    exists()
    .where(Placement.referral_id == Referral.id)
    .where(Unit.id == Placement.unit_id, Scheme.id == Unit.scheme_id)
    .where(Scheme.scheme_type == Referral.outcome_scheme_type)
)
_MOVED = exists().where(
    PerpetratorMove.referral_id == Referral.id,
    PerpetratorMove.status.in_((PerpetratorMoveStatus.ACCEPTED, PerpetratorMoveStatus.ENDED)),
)
_ANY_PLACEMENT = exists().where(Placement.referral_id == Referral.id)
_CHARACTERISED = exists().where(ReferralCharacteristics.referral_id == Referral.id)
DISAGREEING_REFERRALS = select(Referral.id, Referral.status, Referral.outcome).where(
    or_(
        and_(
            Referral.status == ReferralStatus.PLACED,
            Referral.outcome.is_distinct_from(ReferralOutcome.PLACED),
        ),
        and_(Referral.outcome == ReferralOutcome.PLACED, ~_PLACED_AS_RECORDED),
        and_(Referral.outcome.is_distinct_from(ReferralOutcome.PLACED), _ANY_PLACEMENT),
        and_(Referral.outcome == ReferralOutcome.PERPETRATOR_MOVED, ~_MOVED),
        and_(Referral.status == ReferralStatus.OPEN, Referral.outcome.is_not(None)),
        and_(
            Referral.outcome == ReferralOutcome.UNABLE_TO_SUPPORT,
            Referral.status != ReferralStatus.CLOSED,
        ),
        ~_CHARACTERISED,
    )
)
"""Referrals whose outcome (or missing characteristics) disagrees with their records."""


class InconsistentRecords(Exception):
    """Some options or referrals are not what their records make them."""


async def check_records(conn: AsyncConnection) -> None:
    """Every check: units, then options and referrals (raising on the first that fails)."""
    await check_unit_statuses(conn)
    options = (await conn.execute(DISAGREEING_OPTIONS.limit(10))).all()
    if options:
        listed = ", ".join(f"{option_id} ({status})" for option_id, status in options)
        raise InconsistentRecords(
            f"rehousing options booked by a live perpetrator move but not occupied: {listed}"
        )
    referrals = (await conn.execute(DISAGREEING_REFERRALS.limit(10))).all()
    if referrals:
        listed = ", ".join(f"{rid} ({status}, {outcome})" for rid, status, outcome in referrals)
        raise InconsistentRecords(
            "referrals whose outcome disagrees with their placements and perpetrator moves, "
            f"or without characteristics: {listed}"
        )
