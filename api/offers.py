"""/api/v1/offers: hold a unit for a household, then accept, decline or withdraw.

Officers make and withdraw offers for their authority's referrals; the unit's provider
accepts or declines (a reason from a fixed list). Of two officers offering one unit at
once, one gets 201 and the other 409.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import allow
from api.common import Limit, Offset, Page
from api.placements import PlacementView, placement_view
from placement.crypto import Cipher
from placement.enums import DeclineReason, Gender, OfferStatus, RiskLevel, Role
from placement.match_service import MatchService
from placement.models import Offer
from placement.offers import OfferService
from placement.referrals import ReferralService
from placement.security import Principal

OFFICERS_AND_PROVIDERS = allow(Role.HOUSING_OFFICER, Role.INTEGRATION, Role.PROVIDER)
OFFICERS = allow(Role.HOUSING_OFFICER, Role.INTEGRATION)
PROVIDERS = allow(Role.PROVIDER)


class OfferCreate(msgspec.Struct, forbid_unknown_fields=True):
    referral_id: uuid.UUID
    unit_id: uuid.UUID


class OfferDecline(msgspec.Struct, forbid_unknown_fields=True):
    reason: DeclineReason
    note: Annotated[str, Meta(max_length=500)] | None = None


class OfferView(msgspec.Struct):
    id: uuid.UUID
    referral_id: uuid.UUID
    unit_id: uuid.UUID
    status: OfferStatus
    expires_at: datetime
    decline_reason: DeclineReason | None
    decline_note: str | None
    created_at: datetime
    decided_at: datetime | None


class NeedsMember(msgspec.Struct):
    age: int
    gender: Gender
    access_needs: list[str]


class HouseholdNeeds(msgspec.Struct):
    """What the provider deciding an offer may know: make-up and needs, no places."""

    members: list[NeedsMember]
    risk_level: RiskLevel
    nrpf: bool | None
    pets: bool | None
    space_need: str | None
    languages: list[str] | None
    language_essential: bool | None
    support_needs: list[str] | None
    support_essential: bool | None


class OfferDetail(OfferView):
    household_needs: HouseholdNeeds | None = None


class Accepted(msgspec.Struct):
    offer: OfferView
    placement: PlacementView


def view(row: Offer) -> OfferView:
    return msgspec.convert(row, OfferView, from_attributes=True)


def provide_service(
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
    cipher: NamedDependency[Cipher],
    state: State,
) -> OfferService:
    """Offers are checked against the same hard rules as matches before a unit is held."""
    hold = timedelta(hours=state.settings.offer_hold_hours)
    matcher = MatchService(
        ReferralService(db_session, principal, cipher, state.read_audit),
        state.registry_index,
        state.weights,
    )
    return OfferService(db_session, principal, cipher, hold, matcher.unit_breaks)


class OfferController(Controller):
    path = "/offers"
    tags = ["offers"]
    guards = [OFFICERS_AND_PROVIDERS]
    dependencies = {"service": Provide(provide_service, sync_to_thread=False)}

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
        return Page([view(r) for r in page.items], page.total, page.limit, page.offset)

    @get("/{offer_id:uuid}", summary="An offer; providers also see the household's needs")
    async def get_offer(
        self, service: NamedDependency[OfferService], offer_id: FromPath[uuid.UUID]
    ) -> OfferDetail:
        offer = await service.get(offer_id)
        needs: dict[str, Any] | None = None
        if service.principal.role is Role.PROVIDER:
            needs = await service.needs(offer)
        return OfferDetail(
            **msgspec.structs.asdict(view(offer)),
            household_needs=msgspec.convert(needs, HouseholdNeeds) if needs else None,
        )

    @post(guards=[OFFICERS], summary="Hold a unit for a referral (409 if it is taken)")
    async def make_offer(
        self, service: NamedDependency[OfferService], data: JSONBody[OfferCreate]
    ) -> OfferView:
        return view(await service.make(data.referral_id, data.unit_id))

    @post(
        "/{offer_id:uuid}/accept",
        guards=[PROVIDERS],
        status_code=200,
        summary="Accept: records the placement and marks the unit occupied",
    )
    async def accept_offer(
        self, service: NamedDependency[OfferService], offer_id: FromPath[uuid.UUID]
    ) -> Accepted:
        offer, placement = await service.accept(offer_id)
        return Accepted(offer=view(offer), placement=placement_view(placement))

    @post(
        "/{offer_id:uuid}/decline",
        guards=[PROVIDERS],
        status_code=200,
        summary="Decline, with a reason from the fixed list",
    )
    async def decline_offer(
        self,
        service: NamedDependency[OfferService],
        offer_id: FromPath[uuid.UUID],
        data: JSONBody[OfferDecline],
    ) -> OfferView:
        return view(await service.decline(offer_id, data.reason, data.note))

    @post(
        "/{offer_id:uuid}/withdraw",
        guards=[OFFICERS],
        status_code=200,
        summary="Withdraw an offer your authority made",
    )
    async def withdraw_offer(
        self, service: NamedDependency[OfferService], offer_id: FromPath[uuid.UUID]
    ) -> OfferView:
        return view(await service.withdraw(offer_id))
