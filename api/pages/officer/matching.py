"""The ranked matches for one referral and "why not this unit?".

Both are `placement.matching.service.MatchService`'s answers as the API gives them
(the household read audited there); the pages only put them in words: score parts as
bars with their numbers, excluded units counted under each rule's words.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from api.auth import OFFICERS
from api.common import provide
from api.pages.forms import INVALID, FormInvalid, errors_of
from api.pages.officer import words
from api.pages.officer.referrals import crumbs
from api.pages.rendering import page
from placement.errors import InvalidInput
from placement.geography import local_authorities
from placement.matching.results import Area, describe_unit
from placement.matching.service import MatchService

SHOWN_OPTIONS = 20


class WhyNot(msgspec.Struct):
    unit_id: uuid.UUID

    REQUIRED = {"unit_id": "Select the unit to check"}


def bars(parts: dict[str, float], state: State) -> list[dict[str, Any]]:
    """Each score part as a bar out of its weight (its best), with its words and number."""
    weights = state.runtime.weights
    return [
        {
            "name": words.part_name(name),
            "value": value,
            "best": float(getattr(weights, name, 1.0)) or 1.0,
        }
        for name, value in parts.items()
    ]


def authority_name(code: str) -> str:
    """An authority by name (the ONS list), for partners' counts in a joint run."""
    known = local_authorities().get(code)
    return known.name if known else code


class OfficerMatchingPages(Controller):
    path = "/officer"
    guards = [OFFICERS]
    include_in_schema = False
    dependencies = {"matcher": provide(MatchService)}

    @get("/referrals/{referral_id:uuid}/matches")
    async def matches(
        self,
        request: Request[Any, Any, Any],
        matcher: NamedDependency[MatchService],
        state: State,
        referral_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._matches(request, matcher, state, referral_id)

    @get("/referrals/{referral_id:uuid}/why-not")
    async def why_not(
        self,
        request: Request[Any, Any, Any],
        matcher: NamedDependency[MatchService],
        state: State,
        referral_id: FromPath[uuid.UUID],
    ) -> Template:
        """The rules one named unit breaks for this household (none: it could have it)."""
        try:
            asked = msgspec.convert(dict(request.query_params), WhyNot, strict=False)
        except msgspec.ValidationError as exc:
            invalid = FormInvalid(errors_of(exc, WhyNot))
            return await self._matches(request, matcher, state, referral_id, invalid=invalid)
        case = await matcher.case(referral_id)
        unit = matcher.live_unit(asked.unit_id)
        facts = case.snapshot.facts.get(str(asked.unit_id))
        if unit is None or facts is None:
            invalid = FormInvalid(errors_of(InvalidInput("unit_id", "Select a unit from the list")))
            return await self._matches(request, matcher, state, referral_id, invalid=invalid)
        household = await matcher.referrals.household(case.referral, purpose="why_not")
        broken = await matcher.rules_broken(case, household, unit)
        area = Area(
            facts.scheme_id,
            facts.scheme_name,
            facts.scheme_type,
            facts.authority_code,
            case.snapshot.authority(facts.authority_code),
            facts.postcode_district,
            facts.unit_label,
            facts.bedrooms,
        )
        available = str(asked.unit_id) in set(case.snapshot.table.ids)
        return page(
            request,
            "officer/why_not.html",
            crumbs=crumbs(
                (case.referral.reference, f"/officer/referrals/{referral_id}"),
                ("Matches", f"/officer/referrals/{referral_id}/matches"),
            ),
            referral=case.referral,
            unit=describe_unit(area),
            rules=words.rules_in_words(broken),
            available=available,
        )

    async def _matches(
        self,
        request: Request[Any, Any, Any],
        matcher: NamedDependency[MatchService],
        state: State,
        referral_id: uuid.UUID,
        invalid: FormInvalid | None = None,
    ) -> Template:
        found = await matcher.matches(referral_id, SHOWN_OPTIONS)
        case = await matcher.case(referral_id)
        facts = case.snapshot.facts
        units = sorted(
            (
                (uid, f"{f.unit_label}, {f.scheme_name} ({f.postcode_district})")
                for uid, f in facts.items()
            ),
            key=lambda pair: pair[1],
        )
        excluded = sorted(found.excluded.items(), key=lambda item: -item[1])
        return page(
            request,
            "officer/matches.html",
            status_code=INVALID if invalid else 200,
            errors=invalid.errors if invalid else [],
            crumbs=crumbs((case.referral.reference, f"/officer/referrals/{referral_id}")),
            referral=case.referral,
            found=found,
            options=[{"option": o, "bars": bars(o.parts, state)} for o in found.options],
            excluded=[
                (text, count)
                for (_, count), text in zip(
                    excluded, words.rules_in_words(r for r, _ in excluded), strict=True
                )
            ],
            misses=[
                {"miss": m, "rules": words.rules_in_words(m.reasons)} for m in found.nearest_misses
            ],
            units=[("", "Choose a unit"), *units],
        )
