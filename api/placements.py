"""/api/v1/placements: who lives where now, the one-time address reveal, and move-out.

Both POSTs take an Idempotency-Key (`api.idempotency`). A retried reveal gets the same
address without counting as a second reveal, and is on the audit trail as a read of it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import OFFICERS, OFFICERS_AND_PROVIDERS
from api.common import Limit, Offset, Page, provide
from api.idempotency import Idempotency, provide_idempotency
from placement.enums import MoveOutReason
from placement.idempotency import First
from placement.models import IdempotencyRecord, Placement
from placement.placements import PlacementService


class PlacementView(msgspec.Struct):
    """A household living in a unit: since when, and (after move-out) why support ended."""

    id: uuid.UUID
    referral_id: uuid.UUID
    unit_id: uuid.UUID
    offer_id: uuid.UUID | None
    """Empty for a placement the provider recorded itself (not through an offer)."""
    moved_in_at: datetime
    moved_out_at: datetime | None
    move_out_reason: MoveOutReason | None
    address_revealed_at: datetime | None


class MoveOut(msgspec.Struct, forbid_unknown_fields=True):
    """Why support ended (the Part 4 return's reasons)."""

    reason: MoveOutReason


class PlacementAddress(msgspec.Struct):
    """Shown to the placing officer once; ask the provider if it is needed again."""

    placement_id: uuid.UUID
    address: str
    postcode: str


def placement_view(row: Placement) -> PlacementView:
    return msgspec.convert(row, PlacementView, from_attributes=True)


class PlacementController(Controller):
    path = "/placements"
    tags = ["placements"]
    guards = [OFFICERS_AND_PROVIDERS]
    dependencies = {"service": provide(PlacementService), "idempotency": provide_idempotency}

    @get(summary="Placements of your referrals (officers) or in your units (providers)")
    async def list_placements(
        self,
        service: NamedDependency[PlacementService],
        limit: Limit = 50,
        offset: Offset = 0,
        current: FromQuery[bool | None] = None,
    ) -> Page[PlacementView]:
        page = await service.list(current=current, limit=limit, offset=offset)
        return Page([placement_view(r) for r in page.items], page.total, page.limit, page.offset)

    @get("/{placement_id:uuid}", summary="A placement")
    async def get_placement(
        self, service: NamedDependency[PlacementService], placement_id: FromPath[uuid.UUID]
    ) -> PlacementView:
        return placement_view(await service.get(placement_id))

    @post(
        "/{placement_id:uuid}/address",
        guards=[OFFICERS],
        status_code=200,
        summary="The scheme's address, once, for the placing officer (audited)",
    )
    async def reveal_address(
        self,
        service: NamedDependency[PlacementService],
        idempotency: NamedDependency[Idempotency],
        placement_id: FromPath[uuid.UUID],
    ) -> Response[PlacementAddress]:
        def shown(location: dict[str, Any]) -> PlacementAddress:
            return PlacementAddress(placement_id, location["address"], location["postcode"])

        async def reveal() -> First[PlacementAddress]:
            location = await service.reveal_address(placement_id)
            return First(shown(location), service.record_type, placement_id)

        async def again(_: IdempotencyRecord) -> PlacementAddress:
            return shown(await service.address_again(placement_id))

        return await idempotency.answer(reveal, again)

    @post(
        "/{placement_id:uuid}/move-out",
        status_code=200,
        summary="Record the move-on; frees the unit",
    )
    async def move_out(
        self,
        service: NamedDependency[PlacementService],
        idempotency: NamedDependency[Idempotency],
        placement_id: FromPath[uuid.UUID],
        data: JSONBody[MoveOut],
    ) -> Response[PlacementView]:
        async def move_out() -> First[PlacementView]:
            placement = await service.move_out(placement_id, data.reason)
            return First(placement_view(placement), service.record_type, placement_id)

        async def again(_: IdempotencyRecord) -> PlacementView:
            return placement_view(await service.get(placement_id))

        return await idempotency.answer(move_out, again)
