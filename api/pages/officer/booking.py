"""Booking from the officer's pages: make and withdraw an offer, and the address reveal.

`OfferService` and `PlacementService` as `api.offers` and `api.placements` call them: the
hard rules before a hold, the 409 when someone else holds the unit, the reveal's
once-only conditional update and its audit event. A refusal is the API's problem shown
as a page, in the API's words.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.auth import OFFICERS
from api.common import provide
from api.pages.forms import FieldError, FormInvalid, read_form
from api.pages.officer.referrals import crumbs
from api.pages.rendering import page
from placement.offers import OfferService
from placement.placements import PlacementService
from placement.referrals import ReferralService


class OfferForm(msgspec.Struct):
    unit_id: uuid.UUID

    REQUIRED: ClassVar[dict[str, str]] = {"unit_id": "Choose a unit from the matches to offer it"}


class OfficerBookingPages(Controller):
    path = "/officer"
    guards = [OFFICERS]
    include_in_schema = False
    dependencies = {
        "offers": provide(OfferService),
        "placements": provide(PlacementService),
        "referrals": provide(ReferralService),
    }

    @post("/referrals/{referral_id:uuid}/offers")
    async def make_offer(
        self,
        request: Request[Any, Any, Any],
        offers: NamedDependency[OfferService],
        referral_id: FromPath[uuid.UUID],
    ) -> Redirect:
        try:
            form = await read_form(request, OfferForm, OfferForm.REQUIRED)
        except FormInvalid as refused:  # the button's hidden unit id, broken or tampered
            raise FormInvalid([FieldError("unit_id", OfferForm.REQUIRED["unit_id"])]) from refused
        await offers.make(referral_id, form.unit_id)
        await offers.session.commit()  # a redirect is not a 2xx: the plugin would not commit
        return Redirect(path=f"/officer/referrals/{referral_id}", status_code=303)

    @post("/offers/{offer_id:uuid}/withdraw")
    async def withdraw_offer(
        self, offers: NamedDependency[OfferService], offer_id: FromPath[uuid.UUID]
    ) -> Redirect:
        offer = await offers.withdraw(offer_id)
        await offers.session.commit()  # as above
        return Redirect(path=f"/officer/referrals/{offer.referral_id}", status_code=303)

    @get("/placements/{placement_id:uuid}/address")
    async def before_reveal(
        self,
        request: Request[Any, Any, Any],
        placements: NamedDependency[PlacementService],
        referrals: NamedDependency[ReferralService],
        placement_id: FromPath[uuid.UUID],
    ) -> Template:
        """The warning before the reveal: the address is shown once, and the showing is
        recorded."""
        placement = await placements.get(placement_id)
        referral = await referrals.get(placement.referral_id)
        return page(
            request,
            "officer/reveal.html",
            crumbs=crumbs((referral.reference, f"/officer/referrals/{referral.id}")),
            placement=placement,
            referral=referral,
            address=None,
        )

    @post("/placements/{placement_id:uuid}/address", status_code=200)
    async def reveal(
        self,
        request: Request[Any, Any, Any],
        placements: NamedDependency[PlacementService],
        referrals: NamedDependency[ReferralService],
        placement_id: FromPath[uuid.UUID],
    ) -> Template:
        """The address, once (a second reveal is the API's 409, shown as its page)."""
        location = await placements.reveal_address(placement_id)
        placement = await placements.get(placement_id)
        referral = await referrals.get(placement.referral_id)
        return page(
            request,
            "officer/reveal.html",
            crumbs=crumbs((referral.reference, f"/officer/referrals/{referral.id}")),
            placement=placement,
            referral=referral,
            address=location,
        )
