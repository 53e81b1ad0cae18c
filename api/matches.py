"""/api/v1/referrals/{id}/matches and /perpetrator-options: what one household could have.

Responses describe units as area and type (postcode district, authority, scheme type),
never an address; the matching service decides what is shown (`placement.matching`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.auth import OFFICERS, get_guarded
from api.common import provide
from placement.matching.results import Matches, PerpetratorOptions
from placement.matching.service import MatchService


class MatchController(Controller):
    path = "/referrals/{referral_id:str}"
    tags = ["matching"]
    guards = [OFFICERS]
    dependencies = {"matcher": provide(MatchService)}

    @get_guarded(
        "/matches", summary="Ranked units for a referral, and why the others were ruled out"
    )
    async def matches(
        self,
        matcher: NamedDependency[MatchService],
        referral_id: FromPath[uuid.UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="options to return")] = 20,
    ) -> Matches:
        return await matcher.matches(referral_id, limit)

    @get_guarded("/perpetrator-options", summary="Rehousing options for the perpetrator instead")
    async def perpetrator_options(
        self, matcher: NamedDependency[MatchService], referral_id: FromPath[uuid.UUID]
    ) -> PerpetratorOptions:
        return await matcher.perpetrator_options(referral_id)
