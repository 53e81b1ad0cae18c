"""/api/v1/offers: hold a unit for a household, then accept, decline or withdraw.

Officers make and withdraw offers for their authority's referrals; the unit's provider
accepts or declines (a reason from a fixed list). Of two officers offering one unit at
once, one gets 201 and the other 409. Every POST takes an Idempotency-Key
(`api.idempotency`): a retry gets the first answer, read again from the offer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta

from api.auth import OFFICERS, OFFICERS_AND_PROVIDERS, PROVIDERS
from api.common import Limit, Offset, Page, page_of, provide
from api.idempotency import Idempotency, provide_idempotency
from api.placements import PlacementView, placement_view
from placement.enums import DeclineReason, OfferStatus, Role
from placement.households import HouseholdNeeds
from placement.idempotency import First, Replay
from placement.models import IdempotencyRecord, Offer, Placement
from placement.offers import OfferService


class OfferCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Hold a unit for a referral: it is checked against the same hard rules as a match."""

    referral_id: uuid.UUID
    unit_id: uuid.UUID


class OfferDecline(msgspec.Struct, forbid_unknown_fields=True):
    """Why the provider declines, from the fixed list, with an optional note."""

    reason: DeclineReason
    note: Annotated[str, Meta(max_length=500)] | None = None


class OfferView(msgspec.Struct):
    """An offer of a unit to a household, held until it is decided or expires."""

    id: uuid.UUID
    referral_id: uuid.UUID
    unit_id: uuid.UUID
    status: OfferStatus
    expires_at: datetime
    decline_reason: DeclineReason | None
    decline_note: str | None
    created_at: datetime
    decided_at: datetime | None


class OfferDetail(OfferView):
    """An offer; the unit's provider also sees the household's needs (never a location)."""

    household_needs: HouseholdNeeds | None = None


class Accepted(msgspec.Struct):
    """An accepted offer and the placement it made."""

    offer: OfferView
    placement: PlacementView


def view(row: Offer) -> OfferView:
    return msgspec.convert(row, OfferView, from_attributes=True)


def accepted(offer: Offer, placement: Placement) -> Accepted:
    return Accepted(offer=view(offer), placement=placement_view(placement))


def current(service: OfferService, offer_id: uuid.UUID) -> Replay[OfferView]:
    """A retried decision's answer: the offer as it is (its decision is final)."""

    async def again(_: IdempotencyRecord) -> OfferView:
        return view(await service.get(offer_id))

    return again


class OfferController(Controller):
    path = "/offers"
    tags = ["offers"]
    guards = [OFFICERS_AND_PROVIDERS]
    dependencies = {"service": provide(OfferService), "idempotency": provide_idempotency}

    @get(summary="Offers for your referrals (officers) or on your units (providers)")
    async def list_offers(
        self,
        service: NamedDependency[OfferService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[OfferStatus | None] = None,
        referral_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[OfferView]:
        page = await service.list(
            status=status, referral_id=referral_id, limit=limit, offset=offset
        )
        return page_of(page, view)

    @get("/{offer_id:str}", summary="An offer; providers also see the household's needs")
    async def get_offer(
        self, service: NamedDependency[OfferService], offer_id: FromPath[uuid.UUID]
    ) -> OfferDetail:
        offer = await service.get(offer_id)
        needs = await service.needs(offer) if service.principal.role is Role.PROVIDER else None
        return OfferDetail(**msgspec.structs.asdict(view(offer)), household_needs=needs)

    @post(guards=[OFFICERS], summary="Hold a unit for a referral (409 if it is taken)")
    async def make_offer(
        self,
        service: NamedDependency[OfferService],
        idempotency: NamedDependency[Idempotency],
        data: JSONBody[OfferCreate],
    ) -> Response[OfferView]:
        async def make() -> First[OfferView]:
            offer = await service.make(data.referral_id, data.unit_id)
            return First(view(offer), service.record_type, offer.id)

        async def again(first: IdempotencyRecord) -> OfferView:
            return view(await service.get(uuid.UUID(first.record_id)))

        return await idempotency.answer(make, again)

    @post(
        "/{offer_id:str}/accept",
        guards=[PROVIDERS],
        status_code=200,
        summary="Accept: records the placement and marks the unit occupied",
    )
    async def accept_offer(
        self,
        service: NamedDependency[OfferService],
        idempotency: NamedDependency[Idempotency],
        offer_id: FromPath[uuid.UUID],
    ) -> Response[Accepted]:
        async def accept() -> First[Accepted]:
            return First(accepted(*await service.accept(offer_id)), service.record_type, offer_id)

        async def again(_: IdempotencyRecord) -> Accepted:
            return accepted(*await service.accepted(offer_id))

        return await idempotency.answer(accept, again)

    @post(
        "/{offer_id:str}/decline",
        guards=[PROVIDERS],
        status_code=200,
        summary="Decline, with a reason from the fixed list",
    )
    async def decline_offer(
        self,
        service: NamedDependency[OfferService],
        idempotency: NamedDependency[Idempotency],
        offer_id: FromPath[uuid.UUID],
        data: JSONBody[OfferDecline],
    ) -> Response[OfferView]:
        async def decline() -> First[OfferView]:
            offer = await service.decline(offer_id, data.reason, data.note)
            return First(view(offer), service.record_type, offer_id)

        return await idempotency.answer(decline, current(service, offer_id))

    @post(
        "/{offer_id:str}/withdraw",
        guards=[OFFICERS],
        status_code=200,
        summary="Withdraw an offer your authority made",
    )
    async def withdraw_offer(
        self,
        service: NamedDependency[OfferService],
        idempotency: NamedDependency[Idempotency],
        offer_id: FromPath[uuid.UUID],
    ) -> Response[OfferView]:
        async def withdraw() -> First[OfferView]:
            offer = await service.withdraw(offer_id)
            return First(view(offer), service.record_type, offer_id)

        return await idempotency.answer(withdraw, current(service, offer_id))
