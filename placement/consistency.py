"""The invariant between a unit's status and its bookings, checked over the whole register.

A unit is held exactly when it has a live offer and occupied exactly when it has a
current placement; nothing else moves it there (see `placement.holds`). Seeding runs
this last, in its own transaction, so a dataset the service could not have reached is
never committed.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from placement.enums import OfferStatus, UnitStatus
from placement.models import Offer, Placement, Unit

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
