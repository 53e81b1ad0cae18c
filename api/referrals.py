"""/api/v1/referrals: households referred by housing officers and integrations.

The wire types of a referral and its household are the domain's own
(`placement.referrals`, `placement.households`), so the API and the pages validate alike.
The household has the same shape on the way in and out, and it is the only place a
household's locations (perpetrator zones, schools, home, named places) appear. Register
and close accept an Idempotency-Key (`api.idempotency`) so integrations can retry safely.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import OFFICERS
from api.common import Limit, Offset, Page, page_of, provide
from api.examples import REFERRAL, example_body
from api.idempotency import Idempotency, provide_idempotency
from placement.enums import ReferralOutcome, ReferralStatus, RiskLevel, SchemeType, UnableReason
from placement.households import Household
from placement.idempotency import First
from placement.models import IdempotencyRecord, Referral
from placement.referrals import ReferralClose, ReferralCreate, ReferralService, ReferralUpdate


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
    outcome: ReferralOutcome | None
    outcome_at: datetime | None
    outcome_scheme_type: SchemeType | None
    unable_reason: UnableReason | None
    unmet_reason_codes: list[str] | None


class ReferralView(ReferralSummary):
    """A referral with its household (reading it is audited)."""

    household: Household


def summary(row: Referral) -> ReferralSummary:
    return msgspec.convert(row, ReferralSummary, from_attributes=True)


def full_view(row: Referral, household: Household) -> ReferralView:
    return ReferralView(**msgspec.structs.asdict(summary(row)), household=household)


class ReferralController(Controller):
    path = "/referrals"
    tags = ["referrals"]
    guards = [OFFICERS]
    dependencies = {"service": provide(ReferralService), "idempotency": provide_idempotency}

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
        service: NamedDependency[ReferralService],
        idempotency: NamedDependency[Idempotency],
        data: Annotated[ReferralCreate, example_body("a mother and her son", REFERRAL)],
    ) -> Response[ReferralView]:
        async def create() -> First[ReferralView]:
            referral = await service.create(data)
            return First(full_view(referral, data.household), service.record_type, referral.id)

        async def again(first: IdempotencyRecord) -> ReferralView:
            referral = await service.get(uuid.UUID(first.record_id))
            return full_view(referral, await service.household(referral))

        return await idempotency.answer(create, again)

    @patch("/{referral_id:uuid}", summary="Change an open referral")
    async def update_referral(
        self,
        service: NamedDependency[ReferralService],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralUpdate],
    ) -> ReferralView:
        referral, household = await service.update(referral_id, data)
        return full_view(referral, household)

    @post(
        "/{referral_id:uuid}/close",
        status_code=200,
        summary="Close a referral with its outcome (unable to be supported: say why)",
    )
    async def close_referral(
        self,
        service: NamedDependency[ReferralService],
        idempotency: NamedDependency[Idempotency],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralClose],
    ) -> Response[ReferralSummary]:
        async def close() -> First[ReferralSummary]:
            referral = await service.close(referral_id, data.reason, data.unable_reason)
            return First(summary(referral), service.record_type, referral_id)

        async def again(_: IdempotencyRecord) -> ReferralSummary:
            return summary(await service.get(referral_id))

        return await idempotency.answer(close, again)
