"""/api/v1/schemes: refuges and other safe accommodation.

`SchemeView` is what anyone allowed to see a scheme sees: type, policy, authority and
postcode district. It has no address field at all, so it cannot leak one. The location
has its own endpoint, for the scheme's own provider, audited on every read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from api.auth import REGISTRY_READERS, REGISTRY_WRITERS
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import SCHEME, example_body
from placement.enums import GenderPolicy, RiskLevel, SchemeType, Support
from placement.fields import AuthorityCode, sent_fields
from placement.models import Scheme
from placement.registry.schemes import SchemeService

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Address = Annotated[str, Meta(min_length=3, max_length=300)]
Postcode = Annotated[str, Meta(min_length=5, max_length=8, description="full UK postcode")]
Latitude = Annotated[float, Meta(ge=-90, le=90, description="WGS84; must be in England")]
Longitude = Annotated[float, Meta(ge=-180, le=180, description="WGS84; must be in England")]
BoyAge = Annotated[int, Meta(ge=0, le=17, description="oldest boy accepted; null: no limit")]
Language = Annotated[str, Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")]
Languages = Annotated[list[Language], Meta(max_length=30)]
SupportList = Annotated[list[Support], Meta(max_length=len(Support))]
Cost = Annotated[float, Meta(ge=0, le=100_000, description="weekly cost in pounds")]


class SchemeCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A refuge or other safe accommodation: its address is stored encrypted and never
    shown in lists."""

    provider_id: uuid.UUID
    authority_code: AuthorityCode
    name: Name
    scheme_type: SchemeType
    address: Address
    postcode: Postcode
    latitude: Latitude
    longitude: Longitude
    gender_policy: GenderPolicy
    max_risk_level: RiskLevel
    max_boy_age: BoyAge | None = None
    accepts_nrpf: bool = False
    accepts_pets: bool = False
    languages: Languages = msgspec.field(default_factory=list)
    support: SupportList = msgspec.field(default_factory=list)
    weekly_cost: Cost = 0.0


class SchemeUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a scheme: send only the fields that change (its provider never does)."""

    authority_code: AuthorityCode | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    scheme_type: SchemeType | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    postcode: Postcode | UnsetType = UNSET
    latitude: Latitude | UnsetType = UNSET
    longitude: Longitude | UnsetType = UNSET
    gender_policy: GenderPolicy | UnsetType = UNSET
    max_risk_level: RiskLevel | UnsetType = UNSET
    max_boy_age: BoyAge | UnsetType | None = UNSET
    accepts_nrpf: bool | UnsetType = UNSET
    accepts_pets: bool | UnsetType = UNSET
    languages: Languages | UnsetType = UNSET
    support: SupportList | UnsetType = UNSET
    weekly_cost: Cost | UnsetType = UNSET


class SchemeView(msgspec.Struct):
    """A scheme as anyone allowed to see it sees it: type, policy, authority and postcode
    district; no address."""

    id: uuid.UUID
    provider_id: uuid.UUID
    authority_code: str
    name: str
    scheme_type: SchemeType
    postcode_district: str
    gender_policy: GenderPolicy
    max_boy_age: int | None
    max_risk_level: RiskLevel
    accepts_nrpf: bool
    accepts_pets: bool
    languages: list[str]
    support: list[str]
    weekly_cost: float
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class SchemeLocation(msgspec.Struct):
    """The secret part of a scheme: shown only to its own provider, every read audited."""

    scheme_id: uuid.UUID
    address: str
    postcode: str
    latitude: float
    longitude: float


def view(row: Scheme) -> SchemeView:
    return msgspec.convert(row, SchemeView, from_attributes=True)


def _normalise(fields: dict[str, object]) -> dict[str, object]:
    for name in ("languages", "support"):
        if name in fields:
            fields[name] = sorted({str(v) for v in fields[name]})  # type: ignore[attr-defined]
    return fields


class SchemeController(Controller):
    path = "/schemes"
    tags = ["schemes"]
    dependencies = {"service": provide(SchemeService)}

    @get(guards=[REGISTRY_READERS], summary="List schemes (providers: their own)")
    async def list_schemes(
        self,
        service: NamedDependency[SchemeService],
        limit: Limit = 50,
        offset: Offset = 0,
        provider_id: FromQuery[uuid.UUID | None] = None,
        authority_code: FromQuery[str | None] = None,
        scheme_type: FromQuery[SchemeType | None] = None,
        gender_policy: FromQuery[GenderPolicy | None] = None,
        postcode_district: FromQuery[str | None] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[SchemeView]:
        page = await service.list(
            provider_id=provider_id,
            authority_code=authority_code,
            scheme_type=scheme_type,
            gender_policy=gender_policy,
            postcode_district=postcode_district,
            include_retired=include_retired,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)

    @get("/{scheme_id:str}", guards=[REGISTRY_READERS], summary="Get a scheme (no address)")
    async def get_scheme(
        self, service: NamedDependency[SchemeService], scheme_id: FromPath[uuid.UUID]
    ) -> SchemeView:
        return view(await service.get(scheme_id))

    @get(
        "/{scheme_id:str}/location",
        guards=[REGISTRY_WRITERS],
        summary="The scheme's address and coordinates (its own provider only; audited)",
    )
    async def get_location(
        self, service: NamedDependency[SchemeService], scheme_id: FromPath[uuid.UUID]
    ) -> SchemeLocation:
        location = await service.location(scheme_id)
        return SchemeLocation(scheme_id=scheme_id, **location)

    @post(guards=[REGISTRY_WRITERS], summary="Register a scheme")
    async def create_scheme(
        self,
        service: NamedDependency[SchemeService],
        data: Annotated[SchemeCreate, example_body("a women-only refuge", SCHEME)],
    ) -> SchemeView:
        return view(await service.create(_normalise(msgspec.structs.asdict(data))))

    @patch("/{scheme_id:str}", guards=[REGISTRY_WRITERS], summary="Change a scheme")
    async def update_scheme(
        self,
        service: NamedDependency[SchemeService],
        scheme_id: FromPath[uuid.UUID],
        data: JSONBody[SchemeUpdate],
    ) -> SchemeView:
        return view(await service.update(scheme_id, _normalise(sent_fields(data))))

    @delete(
        "/{scheme_id:str}", guards=[REGISTRY_WRITERS], status_code=200, summary="Retire a scheme"
    )
    async def retire_scheme(
        self, service: NamedDependency[SchemeService], scheme_id: FromPath[uuid.UUID]
    ) -> SchemeView:
        return view(await service.retire(scheme_id))
