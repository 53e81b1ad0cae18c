"""/api/v1/referrals: households referred by housing officers and integrations.

The wire types of a referral and its household are the domain's own
(`placement.referrals`, `placement.households`), so the API and the pages validate alike.
The household has the same shape on the way in and out, and it is the only place a
household's locations (perpetrator zones, schools, home, named places) appear. POST
accepts an Idempotency-Key so integrations can retry safely.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import OFFICERS
from api.common import ApiResponse, Limit, Offset, Page, page_of, provide
from api.examples import REFERRAL, example_body
from placement.enums import ReferralStatus, RiskLevel
from placement.errors import Conflict
from placement.households import Household
from placement.idempotency import previous, remember, request_hash
from placement.models import Referral
from placement.referrals import ReferralClose, ReferralCreate, ReferralService, ReferralUpdate
from placement.security import Principal


class ReferralSummary(msgspec.Struct):
    """A referral as listed: the case, without its household."""

    id: uuid.UUID
    reference: str
    authority_code: str
    status: ReferralStatus
    risk_level: RiskLevel
    marac: bool
    referred_on: date
    perpetrator_ref: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_reason: str | None


class ReferralView(ReferralSummary):
    """A referral with its household (reading it is audited)."""

    household: Household


def summary(row: Referral) -> ReferralSummary:
    return msgspec.convert(row, ReferralSummary, from_attributes=True)


def full_view(row: Referral, household: Household) -> ReferralView:
    return ReferralView(**msgspec.structs.asdict(summary(row)), household=household)


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=200,
        description="retrying with the same key returns the first result, creating nothing",
    ),
]


class ReferralController(Controller):
    path = "/referrals"
    tags = ["referrals"]
    guards = [OFFICERS]
    dependencies = {"service": provide(ReferralService)}

    @get(summary="List your authority's referrals (no household details)")
    async def list_referrals(
        self,
        service: NamedDependency[ReferralService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[ReferralStatus | None] = None,
        risk_level: FromQuery[RiskLevel | None] = None,
        reference: Annotated[
            str | None,
            QueryParameter(description="your own case reference, exactly", max_length=64),
        ] = None,
    ) -> Page[ReferralSummary]:
        page = await service.list(
            status=status, risk_level=risk_level, reference=reference, limit=limit, offset=offset
        )
        return page_of(page, summary)

    @get("/{referral_id:uuid}", summary="A referral with its household (audited)")
    async def get_referral(
        self, service: NamedDependency[ReferralService], referral_id: FromPath[uuid.UUID]
    ) -> ReferralView:
        referral = await service.get(referral_id)
        return full_view(referral, await service.household(referral))

    @post(summary="Register a referral (send Idempotency-Key to retry safely)")
    async def create_referral(
        self,
        request: Request[Any, Any, Any],
        service: NamedDependency[ReferralService],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[ReferralCreate, example_body("a mother and her son", REFERRAL)],
        idempotency_key: IdempotencyKey = None,
    ) -> ApiResponse[ReferralView]:
        body_hash = request_hash(await request.body())

        async def replay() -> ApiResponse[ReferralView] | None:
            """The first result for this Idempotency-Key, if a request with it was stored."""
            if not idempotency_key or principal.key_id is None:
                return None
            first = await previous(db_session, principal.key_id, idempotency_key, body_hash)
            if first is None:
                return None
            referral = await service.get(uuid.UUID(first.record_id))
            return ApiResponse(
                full_view(referral, await service.household(referral)),
                status_code=first.status_code,
                headers={"Idempotent-Replayed": "true"},
            )

        if (replayed := await replay()) is not None:
            return replayed
        try:
            referral = await service.create(data)
        except Conflict:
            # A concurrent retry with this key may have committed the referral since we
            # looked: then this is a replay, not a duplicate reference.
            if (replayed := await replay()) is not None:
                return replayed
            raise
        if idempotency_key and principal.key_id is not None:
            remember(
                db_session,
                principal.key_id,
                idempotency_key,
                body_hash,
                "referral",
                referral.id,
                201,
            )
        return ApiResponse(full_view(referral, data.household), status_code=201)

    @patch("/{referral_id:uuid}", summary="Change an open referral")
    async def update_referral(
        self,
        service: NamedDependency[ReferralService],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralUpdate],
    ) -> ReferralView:
        referral, household = await service.update(referral_id, data)
        return full_view(referral, household)

    @post("/{referral_id:uuid}/close", status_code=200, summary="Close a referral")
    async def close_referral(
        self,
        service: NamedDependency[ReferralService],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralClose],
    ) -> ReferralSummary:
        return summary(await service.close(referral_id, data.reason))
