"""The officer's referrals: my open referrals, the new-referral form, one referral.

The same services as `api.referrals` and `api.offers`: the row filter (own authority),
the household read's audit and the schema's rules are theirs. A referral of another
authority is "not found" here as in the API.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from api.auth import OFFICERS
from api.common import provide
from api.pages.forms import INVALID, FieldError, FormInvalid
from api.pages.officer import words
from api.pages.officer.referral_form import (
    AVOID_ROWS,
    MEMBER_ROWS,
    NEAR_ROWS,
    PERPETRATOR_ROWS,
    Posted,
    referral_of,
    rule_errors,
)
from api.pages.rendering import page
from placement.enums import OfferStatus, ReferralStatus
from placement.errors import Conflict, InvalidInput
from placement.households import Household
from placement.models import Referral
from placement.offers import OfferService
from placement.placements import PlacementService
from placement.referrals import ReferralService
from placement.registry.authorities import AuthorityService

HOME = ("Home", "/")
REFERRALS = ("Referrals", "/officer")
SHOWN = 500
"""Referrals and offers read for the list page (one page of the services' paging)."""


def crumbs(*more: tuple[str, str]) -> list[tuple[str, str]]:
    return [HOME, REFERRALS, *more]


async def authority_choices(authorities: AuthorityService) -> list[tuple[str, str]]:
    """Every current authority the service knows, by name, for the 'avoid' pickers."""
    found = await authorities.list(
        region=None, group_name=None, q=None, include_retired=False, limit=500, offset=0
    )
    named = sorted(found.items, key=lambda a: a.name)
    return [("", "Choose an authority"), *((a.code, a.name) for a in named)]


def summary_rows(referral: Referral, household: Household) -> list[tuple[str, str]]:
    """The case as the officer reads it back: words, no coordinates."""
    people = ", ".join(
        f"{words.named(words.GENDER, m.gender)}, {m.age}"
        + (f" (school in {m.school.district})" if m.school and m.school.district else "")
        for m in household.members
    )
    needs = [words.named(words.SUPPORT, s) for s in household.support_needs]
    languages = [words.LANGUAGES.get(code, code) for code in household.languages]
    return [
        ("Status", words.named(words.REFERRAL_STATUS, referral.status)),
        ("Risk level", words.named(words.RISK, referral.risk_level)),
        ("MARAC", "Yes" if referral.marac else "No"),
        ("Referred on", words.on(referral.referred_on)),
        ("Household", people),
        ("Support needed", ", ".join(needs) or "None"),
        ("Languages", ", ".join(languages) or "None given"),
        ("Places to keep away from", str(len(household.perpetrator_locations))),
    ]


class OfficerReferralPages(Controller):
    path = "/officer"
    guards = [OFFICERS]
    include_in_schema = False
    dependencies = {
        "referrals": provide(ReferralService),
        "offers": provide(OfferService),
        "placements": provide(PlacementService),
        "authorities": provide(AuthorityService),
    }

    @get("/")
    async def my_referrals(
        self,
        request: Request[Any, Any, Any],
        referrals: NamedDependency[ReferralService],
        offers: NamedDependency[OfferService],
    ) -> Template:
        """Open and placed referrals (not closed), days waiting, live offers' time left."""
        mine = await referrals.list(status=None, risk_level=None, limit=SHOWN, offset=0)
        live = await offers.list(status=OfferStatus.LIVE, referral_id=None, limit=SHOWN, offset=0)
        by_referral: dict[uuid.UUID, list[str]] = defaultdict(list)
        for offer in live.items:
            by_referral[offer.referral_id].append(words.time_left(offer.expires_at))
        rows = [
            {
                "id": r.id,
                "reference": r.reference,
                "status": words.named(words.REFERRAL_STATUS, r.status),
                "risk": words.named(words.RISK, r.risk_level),
                "waiting": words.days_waiting(r.referred_on)
                if r.status is ReferralStatus.OPEN
                else "",
                "offers": by_referral.get(r.id, []),
            }
            for r in mine.items
            if r.status is not ReferralStatus.CLOSED
        ]
        return page(request, "officer/referrals.html", crumbs=[HOME], referrals=rows)

    @get("/referrals/new")
    async def new_referral(
        self, request: Request[Any, Any, Any], authorities: NamedDependency[AuthorityService]
    ) -> Template:
        return await self._form(request, authorities, {}, [])

    @post("/referrals")
    async def create_referral(
        self,
        request: Request[Any, Any, Any],
        authorities: NamedDependency[AuthorityService],
        referrals: NamedDependency[ReferralService],
    ) -> Template | Redirect:
        form = await request.form()
        posted: Posted = {name: form.getall(name) for name in form}
        try:
            data, built = referral_of(posted)
        except FormInvalid as invalid:
            return await self._form(request, authorities, posted, invalid.errors)
        try:
            referral = await referrals.create(data)
        except InvalidInput as exc:
            return await self._form(request, authorities, posted, rule_errors(built, exc))
        except Conflict as exc:
            if exc.extra.get("field") != "reference":
                raise
            errors = [FieldError("reference", f"Your authority already has {data.reference}")]
            return await self._form(request, authorities, posted, errors)
        await referrals.session.commit()  # a redirect is not a 2xx: the plugin would not commit
        return Redirect(path=f"/officer/referrals/{referral.id}?registered=true", status_code=303)

    async def _form(
        self,
        request: Request[Any, Any, Any],
        authorities: AuthorityService,
        posted: Posted,
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "officer/new_referral.html",
            status_code=INVALID if errors else 200,
            crumbs=crumbs(),
            errors=errors,
            posted=posted,
            authorities=await authority_choices(authorities),
            rows={
                "members": range(1, MEMBER_ROWS + 1),
                "perpetrator": range(1, PERPETRATOR_ROWS + 1),
                "near": range(1, NEAR_ROWS + 1),
                "avoid": range(1, AVOID_ROWS + 1),
            },
            words=words,
        )

    @get("/referrals/{referral_id:uuid}")
    async def referral(
        self,
        request: Request[Any, Any, Any],
        referrals: NamedDependency[ReferralService],
        offers: NamedDependency[OfferService],
        placements: NamedDependency[PlacementService],
        referral_id: FromPath[uuid.UUID],
        registered: FromQuery[bool] = False,
    ) -> Template:
        """The case, its household (an audited read, as the API's), offers and placement."""
        referral = await referrals.get(referral_id)
        household = await referrals.household(referral)
        made = await offers.list(status=None, referral_id=referral_id, limit=SHOWN, offset=0)
        placed = [
            p
            for p in (await placements.list(current=None, limit=SHOWN, offset=0)).items
            if p.referral_id == referral_id
        ]
        return page(
            request,
            "officer/referral.html",
            crumbs=crumbs(),
            referral=referral,
            summary=summary_rows(referral, household),
            offers=made.items,
            placement=placed[0] if placed else None,
            registered=registered,
            words=words,
        )
