"""Placements: a household living in a unit, from the accepted offer to the move-on.

The placing officer may see the scheme's address once, after the offer is accepted: the
reveal is a conditional UPDATE (`address_revealed_at IS NULL`), so even two simultaneous
requests get it only once, and it is audited. A retry of that request with its
Idempotency-Key gets the address again, audited as a read, not as another reveal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.enums import MoveOutReason, UnitStatus
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.holds import transition_unit
from placement.models import Placement, Scheme, Unit
from placement.paging import Page, paginate
from placement.scopes import booking_scope
from placement.security import Principal

if TYPE_CHECKING:
    from placement.runtime import Runtime


class PlacementService:
    record_type = "placement"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.cipher = runtime.cipher

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        return booking_scope(
            stmt, self.principal, Placement.referral_id, Placement.unit_id, "see placements"
        )

    async def list(self, *, current: bool | None, limit: int, offset: int) -> Page[Placement]:
        stmt = self.visible(select(Placement))
        if current is not None:
            column = Placement.moved_out_at
            stmt = stmt.where(column.is_(None) if current else column.is_not(None))
        order = (Placement.moved_in_at.desc(), Placement.id)
        return await paginate(self.session, stmt.order_by(*order), limit, offset)

    async def get(self, placement_id: uuid.UUID) -> Placement:
        found = await self.session.scalar(
            self.visible(select(Placement)).where(Placement.id == placement_id)
        )
        if found is None:
            raise NotFound(self.record_type, placement_id)
        return found

    async def reveal_address(self, placement_id: uuid.UUID) -> dict[str, Any]:
        """The scheme's address for the placing officer: once per placement, audited."""
        if not self.principal.is_officer:
            raise Forbidden("only the placing authority's officers can be shown the address")
        placement = await self.get(placement_id)
        if placement.offer_id is None:
            raise Conflict(
                "the provider placed this household itself: there is no placing officer to "
                "be shown the address"
            )
        now = datetime.now(UTC)
        result = await self.session.execute(
            update(Placement)
            .where(
                Placement.id == placement_id,
                Placement.address_revealed_at.is_(None),
                Placement.moved_out_at.is_(None),
            )
            .values(address_revealed_at=now, updated_at=now)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise Conflict(
                "the address for this placement has already been shown (or the household has "
                "moved out); ask the provider if it is needed again",
                address_revealed_at=(
                    placement.address_revealed_at.isoformat()
                    if placement.address_revealed_at
                    else None
                ),
            )
        audit.record(
            self.session,
            self.principal,
            "reveal_address",
            self.record_type,
            placement_id,
            unit_id=str(placement.unit_id),
        )
        return await self._address(placement)

    async def address_again(self, placement_id: uuid.UUID) -> dict[str, Any]:
        """The address once revealed, shown again to the caller whose answer was lost.

        Only a retry of that reveal comes here: its idempotency record (same API key,
        same Idempotency-Key) was committed with the reveal, so it is not a second reveal;
        but it is one more sight of a secret, so it is on record as a read of the address.
        """
        if not self.principal.is_officer:
            raise Forbidden("only the placing authority's officers can be shown the address")
        placement = await self.get(placement_id)
        audit.record(
            self.session,
            self.principal,
            "read_address",
            self.record_type,
            placement_id,
            unit_id=str(placement.unit_id),
            retry_of="reveal_address",
        )
        return await self._address(placement)

    async def _address(self, placement: Placement) -> dict[str, Any]:
        location = await self.session.scalar(
            select(Scheme.location_ciphertext)
            .join(Unit, Unit.scheme_id == Scheme.id)
            .where(Unit.id == placement.unit_id)
        )
        assert location is not None
        return dict(self.cipher.decrypt_json(location))

    async def move_out(
        self, placement_id: uuid.UUID, reason: MoveOutReason, *, now: datetime | None = None
    ) -> Placement:
        """Record why support ended and free the unit (available again from that day).

        `now` is for recording history (`placement seed --history`); the API never sets it.
        """
        placement = await self.get(placement_id)
        now = now or datetime.now(UTC)
        if now < placement.moved_in_at:
            raise InvalidInput("moved_out_at", "a household cannot move out before it moved in")
        result = await self.session.execute(
            update(Placement)
            .where(Placement.id == placement_id, Placement.moved_out_at.is_(None))
            .values(moved_out_at=now, move_out_reason=reason, updated_at=now)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise Conflict(f"placement {placement_id} has already ended")
        await transition_unit(
            self.session,
            placement.unit_id,
            UnitStatus.OCCUPIED,
            UnitStatus.AVAILABLE,
            available_from=now.date(),
        )
        audit.record(
            self.session,
            self.principal,
            "move_out",
            self.record_type,
            placement_id,
            reason=str(reason),
        )
        await self.session.refresh(placement)
        return placement
