"""/api/v1/placements: who lives where now, the one-time address reveal, and move-out."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import OFFICERS, OFFICERS_AND_PROVIDERS
from api.common import Limit, Offset, Page, provide
from placement.enums import MoveOnOutcome
from placement.models import Placement
from placement.placements import PlacementService


class PlacementView(msgspec.Struct):
    id: uuid.UUID
    referral_id: uuid.UUID
    unit_id: uuid.UUID
    offer_id: uuid.UUID | None
    """Empty for a placement the provider recorded itself (not through an offer)."""
    moved_in_at: datetime
    moved_out_at: datetime | None
    move_on_outcome: str | None
    address_revealed_at: datetime | None


class MoveOut(msgspec.Struct, forbid_unknown_fields=True):
    outcome: MoveOnOutcome


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
    dependencies = {"service": provide(PlacementService)}

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
        self, service: NamedDependency[PlacementService], placement_id: FromPath[uuid.UUID]
    ) -> PlacementAddress:
        location = await service.reveal_address(placement_id)
        return PlacementAddress(
            placement_id=placement_id, address=location["address"], postcode=location["postcode"]
        )

    @post(
        "/{placement_id:uuid}/move-out",
        status_code=200,
        summary="Record the move-on; frees the unit",
    )
    async def move_out(
        self,
        service: NamedDependency[PlacementService],
        placement_id: FromPath[uuid.UUID],
        data: JSONBody[MoveOut],
    ) -> PlacementView:
        return placement_view(await service.move_out(placement_id, data.outcome))
