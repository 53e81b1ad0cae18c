"""The provider's offers inbox: live offers on its units, each with the household's
needs (no names, no places), the referring authority and the time left; accept, or
decline with a reason from the fixed list.

New offers arrive without a reload: the inbox polls its own fragment with htmx, passing
what it shows (`seen`: the offers and their time left). When nothing has changed the
answer is 204 and htmx leaves the page alone, so an open inbox does not read (and audit)
the households every few seconds; when something has, the fragment comes back with the
needs read through `OfferService.needs`, audited as the API's reads are. Without
JavaScript the page has a refresh link. Deciding goes through `OfferService` as the
API's does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PROVIDERS
from api.common import provide
from api.offers import OfferDecline
from api.pages.forms import INVALID, FieldError, read_form
from api.pages.provider import words
from api.pages.provider.forms import REFUSALS, DeclineForm, errors_for
from api.pages.rendering import page
from placement.enums import DeclineReason, OfferStatus
from placement.errors import Conflict
from placement.households import HouseholdNeeds
from placement.models import Authority, Offer, Referral, Unit
from placement.offers import OfferService
from placement.registry.units import UnitService

INBOX = "/provider/offers"
CRUMBS = [("Home", "/"), ("Offers", INBOX)]
POLL_SECONDS = 3
EVERYTHING = 500
NOTICES = {
    "accepted": "You accepted the offer. The household's placement is recorded and the unit "
    "is occupied.",
    "declined": "You declined the offer. The unit is available again.",
}
GONE = (
    "This offer can no longer be decided: it has been accepted, declined, withdrawn by the "
    "referring authority, or it has expired."
)


@dataclass(frozen=True, slots=True)
class Shown:
    """One live offer as the inbox shows it."""

    offer: Offer
    unit: Unit
    authority: str
    time_left: str
    needs: list[tuple[str, str]]


def _conflict_words(exc: Conflict) -> str:
    if "no longer waiting" in exc.detail:
        return (
            "The household of this offer has already been placed or its referral closed: "
            "the offer cannot be accepted."
        )
    return GONE


async def _live(offers: OfferService, now: datetime) -> list[Offer]:
    listed = await offers.list(
        status=OfferStatus.LIVE, referral_id=None, limit=EVERYTHING, offset=0
    )
    return [offer for offer in listed.items if offer.expires_at > now]


def _fingerprint(live: list[Offer], now: datetime) -> str:
    """What the inbox shows, short: the offers and each one's time left."""
    text = ";".join(f"{o.id}:{words.time_left(o.expires_at, now)}" for o in live)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def _authority_names(db: AsyncSession, live: list[Offer]) -> dict[uuid.UUID, str]:
    rows = await db.execute(
        select(Referral.id, Authority.name)
        .join(Authority, Authority.code == Referral.authority_code)
        .where(Referral.id.in_([o.referral_id for o in live]))
    )
    return dict(rows.tuples().all())


class InboxPages(Controller):
    path = INBOX
    guards = [PROVIDERS]
    include_in_schema = False
    dependencies = {"offers": provide(OfferService), "units": provide(UnitService)}

    @get("/")
    async def inbox(
        self,
        request: Request[Any, Any, Any],
        offers: NamedDependency[OfferService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        done: FromQuery[str | None] = None,
    ) -> Template:
        context = await self._inbox(offers, units, db_session)
        return page(
            request,
            "provider/offers.html",
            crumbs=[("Home", "/")],
            notice=NOTICES.get(done or ""),
            **context,
        )

    @get("/live")
    async def live(
        self,
        offers: NamedDependency[OfferService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        seen: FromQuery[str] = "",
    ) -> Template | Response[None]:
        """The inbox's list alone, for htmx's polling; 204 if it would be as `seen`."""
        now = datetime.now(UTC)
        if _fingerprint(await _live(offers, now), now) == seen:
            return Response(content=None, status_code=204)
        context = await self._inbox(offers, units, db_session)
        return Template(template_name="provider/_inbox.html", context=context)

    async def _inbox(
        self, offers: OfferService, units: UnitService, db: AsyncSession
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        live = await _live(offers, now)
        names = await _authority_names(db, live)
        shown = []
        for offer in live:
            needs: HouseholdNeeds = await offers.needs(offer)  # audited, as the API's read
            shown.append(
                Shown(
                    offer=offer,
                    unit=await units.get(offer.unit_id),
                    authority=names.get(offer.referral_id, "Unknown authority"),
                    time_left=words.time_left(offer.expires_at, now),
                    needs=words.needs_rows(needs),
                )
            )
        return {
            "shown": shown,
            "seen": _fingerprint(live, now),
            "poll_seconds": POLL_SECONDS,
            "checked_at": f"{now:%H:%M:%S}",
        }

    @post("/{offer_id:uuid}/accept")
    async def accept(
        self,
        request: Request[Any, Any, Any],
        offers: NamedDependency[OfferService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        offer_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        try:
            await offers.accept(offer_id)
        except Conflict as exc:
            await db_session.rollback()
            context = await self._inbox(offers, units, db_session)
            return page(
                request,
                "provider/offers.html",
                status_code=409,
                crumbs=[("Home", "/")],
                refused=_conflict_words(exc),
                **context,
            )
        await db_session.commit()
        return Redirect(path=f"{INBOX}?done=accepted", status_code=303)

    @get("/{offer_id:uuid}/decline")
    async def decline_page(
        self,
        request: Request[Any, Any, Any],
        offers: NamedDependency[OfferService],
        units: NamedDependency[UnitService],
        offer_id: FromPath[uuid.UUID],
    ) -> Template:
        offer = await offers.get(offer_id)
        return self._decline(request, offer, await units.get(offer.unit_id), {}, [])

    @post("/{offer_id:uuid}/decline")
    async def decline(
        self,
        request: Request[Any, Any, Any],
        offers: NamedDependency[OfferService],
        units: NamedDependency[UnitService],
        db_session: NamedDependency[AsyncSession],
        offer_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        offer = await offers.get(offer_id)
        try:
            form = await read_form(request, DeclineForm, DeclineForm.REQUIRED)
            body = msgspec.convert(msgspec.structs.asdict(form), OfferDecline)
            await offers.decline(offer_id, body.reason, body.note)
        except REFUSALS as exc:
            errors = errors_for(exc, DeclineForm)
            posted = dict((await request.form()).multi_items())
            unit = await units.get(offer.unit_id)
            return self._decline(request, offer, unit, posted, errors)
        except Conflict as exc:
            await db_session.rollback()
            unit = await units.get(offer.unit_id)
            return self._decline(request, offer, unit, {}, [], refused=_conflict_words(exc))
        await db_session.commit()
        return Redirect(path=f"{INBOX}?done=declined", status_code=303)

    def _decline(
        self,
        request: Request[Any, Any, Any],
        offer: Offer,
        unit: Unit,
        posted: dict[str, Any],
        errors: list[FieldError],
        refused: str | None = None,
    ) -> Template:
        return page(
            request,
            "provider/decline.html",
            status_code=409 if refused else INVALID if errors else 200,
            crumbs=CRUMBS,
            errors=errors,
            offer=offer,
            unit=unit,
            posted=posted,
            refused=refused,
            reasons=words.options(DeclineReason, "Choose a reason"),
        )
