"""Where a unit's status moves: holds for offers, their expiry, and their release.

Every change of a unit between available, held and occupied goes through
`transition_unit`, a conditional UPDATE: of two transactions moving the same unit, exactly
one matches its WHERE clause, which is what makes offers race-safe. Holds that run out
free their unit without anyone acting: `release_expired` runs before every offer on a
unit, before allocation runs, and in each worker's background sweep at the next expiry.

Perpetrator-rehousing options move the same way (`transition_option`): a perpetrator
move's hold makes its option occupied, and withdrawing or ending the move frees it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.enums import OfferStatus, PerpetratorMoveStatus, RehousingStatus, Role, UnitStatus
from placement.models import Offer, PerpetratorMove, RehousingOption, Unit
from placement.security import Principal

EXPIRY = Principal(key_id=None, label="offer expiry", role=Role.ADMIN)
"""Who the audit log names for a hold that ran out."""


async def transition_unit(
    session: AsyncSession,
    unit_id: uuid.UUID,
    from_status: UnitStatus,
    to_status: UnitStatus,
    **values: Any,
) -> bool:
    """Move a unit between statuses only if it is still in `from_status`; bump its version."""
    result = await session.execute(
        update(Unit)
        .where(Unit.id == unit_id, Unit.status == from_status, Unit.retired_at.is_(None))
        .values(status=to_status, version=Unit.version + 1, updated_at=datetime.now(UTC), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_expired(
    session: AsyncSession, unit_id: uuid.UUID | None = None, now: datetime | None = None
) -> int:
    """Mark live offers past their hold as expired and free their units; returns how many."""
    now = now or datetime.now(UTC)
    stmt = select(Offer.id, Offer.unit_id).where(
        Offer.status == OfferStatus.LIVE, Offer.expires_at <= now
    )
    if unit_id is not None:
        stmt = stmt.where(Offer.unit_id == unit_id)
    expired = (await session.execute(stmt)).all()
    for offer_id, offer_unit in expired:
        result = await session.execute(
            update(Offer)
            .where(Offer.id == offer_id, Offer.status == OfferStatus.LIVE)
            .values(status=OfferStatus.EXPIRED, decided_at=now, updated_at=now)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await transition_unit(session, offer_unit, UnitStatus.HELD, UnitStatus.AVAILABLE)
            audit.record(session, EXPIRY, "expire", "offer", offer_id)
    return len(expired)


async def next_expiry(session: AsyncSession) -> datetime | None:
    """When the next live hold runs out (None when nothing is held)."""
    return await session.scalar(
        select(func.min(Offer.expires_at)).where(Offer.status == OfferStatus.LIVE)
    )


async def transition_option(
    session: AsyncSession,
    option_id: uuid.UUID,
    from_status: RehousingStatus,
    to_status: RehousingStatus,
) -> bool:
    """Move a rehousing option between statuses only if it is still in `from_status`."""
    result = await session.execute(
        update(RehousingOption)
        .where(
            RehousingOption.id == option_id,
            RehousingOption.status == from_status,
            RehousingOption.retired_at.is_(None),
        )
        .values(status=to_status, version=RehousingOption.version + 1, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def withdraw_live_offers(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    reason: str,
    *,
    now: datetime | None = None,
) -> int:
    """Withdraw a referral's live offers and free their units; returns how many."""
    now = now or datetime.now(UTC)
    live = (
        await session.execute(
            select(Offer.id, Offer.unit_id).where(
                Offer.referral_id == referral_id, Offer.status == OfferStatus.LIVE
            )
        )
    ).all()
    withdrawn = 0
    for offer_id, unit_id in live:
        result = await session.execute(
            update(Offer)
            .where(Offer.id == offer_id, Offer.status == OfferStatus.LIVE)
            .values(
                status=OfferStatus.WITHDRAWN,
                decided_at=now,
                decided_by_key_id=principal.key_id,
                updated_at=now,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await transition_unit(session, unit_id, UnitStatus.HELD, UnitStatus.AVAILABLE)
            audit.record(session, principal, "withdrawn", "offer", offer_id, reason=reason)
            withdrawn += 1
    return withdrawn


async def withdraw_live_perpetrator_moves(
    session: AsyncSession,
    principal: Principal,
    referral_id: uuid.UUID,
    reason: str,
    *,
    now: datetime | None = None,
) -> int:
    """Withdraw a referral's held perpetrator moves and free their options."""
    now = now or datetime.now(UTC)
    held = (
        await session.execute(
            select(PerpetratorMove.id, PerpetratorMove.option_id).where(
                PerpetratorMove.referral_id == referral_id,
                PerpetratorMove.status == PerpetratorMoveStatus.HELD,
            )
        )
    ).all()
    withdrawn = 0
    for move_id, option_id in held:
        result = await session.execute(
            update(PerpetratorMove)
            .where(
                PerpetratorMove.id == move_id, PerpetratorMove.status == PerpetratorMoveStatus.HELD
            )
            .values(status=PerpetratorMoveStatus.WITHDRAWN, withdrawn_at=now, updated_at=now)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await transition_option(
                session, option_id, RehousingStatus.OCCUPIED, RehousingStatus.AVAILABLE
            )
            audit.record(
                session, principal, "withdrawn", "perpetrator_move", move_id, reason=reason
            )
            withdrawn += 1
    return withdrawn
