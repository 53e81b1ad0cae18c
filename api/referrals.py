"""/api/v1/referrals: households referred by housing officers and integrations.

The household document has the same shape on the way in and out, and it is the only
place a household's locations (perpetrator zones, schools, home, named places) appear.
Coordinates may be anywhere in the UK: families flee into England from Wales and
Scotland. POST accepts an Idempotency-Key so integrations can retry safely.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import allow
from api.common import Limit, Offset, Page, set_fields
from placement.crypto import Cipher
from placement.enums import (
    AccessFeature,
    Gender,
    PerpetratorCondition,
    ReferralStatus,
    RiskLevel,
    Role,
    Specialism,
    Support,
)
from placement.errors import Conflict
from placement.idempotency import previous, remember, request_hash
from placement.models import Referral
from placement.referrals import ReferralService
from placement.security import Principal

OFFICERS = allow(Role.HOUSING_OFFICER, Role.INTEGRATION)

UKLatitude = Annotated[float, Meta(ge=49.0, le=61.0, description="WGS84, within the UK")]
UKLongitude = Annotated[float, Meta(ge=-8.7, le=2.0, description="WGS84, within the UK")]
Radius = Annotated[float, Meta(ge=0, le=500, description="kilometres")]
Age = Annotated[int, Meta(ge=0, le=120)]
Label = Annotated[str, Meta(min_length=1, max_length=40)]
Language = Annotated[str, Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")]
AuthorityCode = Annotated[str, Meta(pattern=r"^E0[6-9]\d{6}$")]
Reference = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9/_-]{2,63}$",
        description="pseudonymous case reference: no names",
    ),
]
PerpetratorRef = Annotated[str, Meta(pattern=r"^[A-Za-z0-9/_-]{1,64}$")]
SpaceNeed = Annotated[str, Meta(pattern=r"^(women_only|lgbtq_specialist)$")]


class Place(msgspec.Struct, forbid_unknown_fields=True):
    latitude: UKLatitude
    longitude: UKLongitude


class School(msgspec.Struct, forbid_unknown_fields=True):
    latitude: UKLatitude
    longitude: UKLongitude
    district: Annotated[str, Meta(max_length=5)] | None = None


class NamedPlace(msgspec.Struct, forbid_unknown_fields=True):
    latitude: UKLatitude
    longitude: UKLongitude
    label: Label


class PerpetratorLocation(msgspec.Struct, forbid_unknown_fields=True):
    latitude: UKLatitude
    longitude: UKLongitude
    radius_km: Radius


class Member(msgspec.Struct, forbid_unknown_fields=True):
    """A person in the household: age and gender, never a name."""

    age: Age
    gender: Gender
    access_needs: Annotated[list[AccessFeature], Meta(max_length=4)] = msgspec.field(
        default_factory=list
    )
    school: School | None = None


Members = Annotated[list[Member], Meta(min_length=1, max_length=20)]
Languages = Annotated[list[Language], Meta(max_length=10)]
SupportNeeds = Annotated[list[Support], Meta(max_length=3)]
PerpetratorLocations = Annotated[list[PerpetratorLocation], Meta(max_length=20)]
AvoidAuthorities = Annotated[list[AuthorityCode], Meta(max_length=50)]
StayNear = Annotated[list[NamedPlace], Meta(max_length=10)]
Conditions = Annotated[list[PerpetratorCondition], Meta(max_length=4)]
Specialisms = Annotated[list[Specialism], Meta(max_length=6)]


class Household(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    members: Members
    nrpf: bool = False
    pets: bool = False
    space_need: SpaceNeed | None = None
    languages: Languages = msgspec.field(default_factory=list)
    language_essential: bool = False
    support_needs: SupportNeeds = msgspec.field(default_factory=list)
    support_essential: bool = False
    perpetrator_locations: PerpetratorLocations = msgspec.field(default_factory=list)
    avoid_authorities: AvoidAuthorities = msgspec.field(default_factory=list)
    stay_near: StayNear = msgspec.field(default_factory=list)
    keep_school: bool = False
    home: Place | None = None
    perpetrator_move_possible: bool = False
    perpetrator_conditions: Conditions = msgspec.field(default_factory=list)
    preferred_specialisms: Specialisms = msgspec.field(default_factory=list)
    needed_by: date | None = None


class HouseholdChanges(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The parts of a household to replace; the parts not sent are kept as they are."""

    members: Members | UnsetType = UNSET
    nrpf: bool | UnsetType = UNSET
    pets: bool | UnsetType = UNSET
    space_need: SpaceNeed | UnsetType | None = UNSET
    languages: Languages | UnsetType = UNSET
    language_essential: bool | UnsetType = UNSET
    support_needs: SupportNeeds | UnsetType = UNSET
    support_essential: bool | UnsetType = UNSET
    perpetrator_locations: PerpetratorLocations | UnsetType = UNSET
    avoid_authorities: AvoidAuthorities | UnsetType = UNSET
    stay_near: StayNear | UnsetType = UNSET
    keep_school: bool | UnsetType = UNSET
    home: Place | UnsetType | None = UNSET
    perpetrator_move_possible: bool | UnsetType = UNSET
    perpetrator_conditions: Conditions | UnsetType = UNSET
    preferred_specialisms: Specialisms | UnsetType = UNSET
    needed_by: date | UnsetType | None = UNSET


class ReferralCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reference: Reference
    risk_level: RiskLevel
    marac: bool = False
    referred_on: date | None = None
    perpetrator_ref: PerpetratorRef | None = None
    household: Household


class ReferralUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Change the case fields, and/or replace whole top-level parts of the household."""

    risk_level: RiskLevel | UnsetType = UNSET
    marac: bool | UnsetType = UNSET
    perpetrator_ref: PerpetratorRef | UnsetType | None = UNSET
    household: HouseholdChanges | UnsetType = UNSET


class ReferralClose(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class ReferralSummary(msgspec.Struct):
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
    household: Household


def summary(row: Referral) -> ReferralSummary:
    return msgspec.convert(row, ReferralSummary, from_attributes=True)


def full_view(row: Referral, household: dict[str, Any]) -> ReferralView:
    base = msgspec.structs.asdict(summary(row))
    return ReferralView(**base, household=msgspec.convert(household, Household))


def provide_service(
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
    cipher: NamedDependency[Cipher],
    state: State,
) -> ReferralService:
    return ReferralService(db_session, principal, cipher, state.read_audit)


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
    dependencies = {"service": Provide(provide_service, sync_to_thread=False)}

    @get(summary="List your authority's referrals (no household details)")
    async def list_referrals(
        self,
        service: NamedDependency[ReferralService],
        limit: Limit = 50,
        offset: Offset = 0,
        status: FromQuery[ReferralStatus | None] = None,
        risk_level: FromQuery[RiskLevel | None] = None,
    ) -> Page[ReferralSummary]:
        page = await service.list(status=status, risk_level=risk_level, limit=limit, offset=offset)
        return Page([summary(r) for r in page.items], page.total, page.limit, page.offset)

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
        data: JSONBody[ReferralCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReferralView]:
        body_hash = request_hash(await request.body())

        async def replay() -> Response[ReferralView] | None:
            """The first result for this Idempotency-Key, if a request with it was stored."""
            if not idempotency_key or principal.key_id is None:
                return None
            first = await previous(db_session, principal.key_id, idempotency_key, body_hash)
            if first is None:
                return None
            referral = await service.get(uuid.UUID(first.record_id))
            return Response(
                full_view(referral, await service.household(referral)),
                status_code=first.status_code,
                headers={"Idempotent-Replayed": "true"},
            )

        if (replayed := await replay()) is not None:
            return replayed
        household = msgspec.to_builtins(data.household)
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "household"}
        try:
            referral = await service.create(fields, household)
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
        return Response(full_view(referral, household), status_code=201)

    @patch("/{referral_id:uuid}", summary="Change an open referral")
    async def update_referral(
        self,
        service: NamedDependency[ReferralService],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralUpdate],
    ) -> ReferralView:
        changes = set_fields(data)
        household = changes.pop("household", None)
        # Only the parts sent: a part left out keeps its value (UNSET is not encoded).
        document = msgspec.to_builtins(household) if household is not None else {}
        referral, merged = await service.update(referral_id, changes, document)
        return full_view(referral, merged)

    @post("/{referral_id:uuid}/close", status_code=200, summary="Close a referral")
    async def close_referral(
        self,
        service: NamedDependency[ReferralService],
        referral_id: FromPath[uuid.UUID],
        data: JSONBody[ReferralClose],
    ) -> ReferralSummary:
        return summary(await service.close(referral_id, data.reason))
