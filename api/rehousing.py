"""/api/v1/rehousing-options: accommodation for perpetrators, so victims can stay home."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from api.auth import REGISTRY_READERS, REGISTRY_WRITERS
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import REHOUSING, example_body
from api.schemes import Address, Cost, Latitude, Longitude, Name, Postcode
from placement.enums import PerpetratorCondition, RehousingStatus, RiskLevel
from placement.fields import AuthorityCode, sent_fields
from placement.models import RehousingOption
from placement.registry.rehousing import RehousingService

Conditions = Annotated[list[PerpetratorCondition], Meta(max_length=len(PerpetratorCondition))]
BedSpaces = Annotated[int, Meta(ge=1, le=20)]


class RehousingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A place a perpetrator can be rehoused in, so the survivor can stay at home."""

    authority_code: AuthorityCode
    name: Name
    address: Address
    postcode: Postcode
    latitude: Latitude
    longitude: Longitude
    max_risk_level: RiskLevel
    provider_id: uuid.UUID | None = None
    accepts_conditions: Conditions = msgspec.field(default_factory=list)
    bed_spaces: BedSpaces = 1
    status: RehousingStatus = RehousingStatus.AVAILABLE
    available_from: date | None = None
    weekly_cost: Cost = 0.0


class RehousingUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a rehousing option: send only the fields that change."""

    authority_code: AuthorityCode | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    postcode: Postcode | UnsetType = UNSET
    latitude: Latitude | UnsetType = UNSET
    longitude: Longitude | UnsetType = UNSET
    max_risk_level: RiskLevel | UnsetType = UNSET
    accepts_conditions: Conditions | UnsetType = UNSET
    bed_spaces: BedSpaces | UnsetType = UNSET
    status: RehousingStatus | UnsetType = UNSET
    available_from: date | UnsetType = UNSET
    weekly_cost: Cost | UnsetType = UNSET


class RehousingView(msgspec.Struct):
    """A rehousing option as seen by officers: area and features, never the address."""

    id: uuid.UUID
    provider_id: uuid.UUID | None
    authority_code: str
    name: str
    postcode_district: str
    max_risk_level: RiskLevel
    accepts_conditions: list[str]
    bed_spaces: int
    status: RehousingStatus
    available_from: date
    weekly_cost: float
    version: int
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class RehousingLocation(msgspec.Struct):
    """Where a rehousing option is: for its own provider only (reading it is audited)."""

    option_id: uuid.UUID
    address: str
    postcode: str
    latitude: float
    longitude: float


def view(row: RehousingOption) -> RehousingView:
    return msgspec.convert(row, RehousingView, from_attributes=True)


def _conditions(fields: dict[str, object]) -> dict[str, object]:
    if "accepts_conditions" in fields:
        fields["accepts_conditions"] = sorted({str(c) for c in fields["accepts_conditions"]})  # type: ignore[attr-defined]
    return fields


class RehousingController(Controller):
    path = "/rehousing-options"
    tags = ["rehousing options"]
    dependencies = {"service": provide(RehousingService)}

    @get(guards=[REGISTRY_READERS], summary="List perpetrator-rehousing options")
    async def list_options(
        self,
        service: NamedDependency[RehousingService],
        limit: Limit = 50,
        offset: Offset = 0,
        authority_code: FromQuery[str | None] = None,
        status: FromQuery[RehousingStatus | None] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[RehousingView]:
        page = await service.list(
            authority_code=authority_code,
            status=status,
            include_retired=include_retired,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)

    @get("/{option_id:str}", guards=[REGISTRY_READERS], summary="Get a rehousing option")
    async def get_option(
        self, service: NamedDependency[RehousingService], option_id: FromPath[uuid.UUID]
    ) -> RehousingView:
        return view(await service.get(option_id))

    @get(
        "/{option_id:str}/location",
        guards=[REGISTRY_WRITERS],
        summary="The option's address (its own provider only; audited)",
    )
    async def get_location(
        self, service: NamedDependency[RehousingService], option_id: FromPath[uuid.UUID]
    ) -> RehousingLocation:
        return RehousingLocation(option_id=option_id, **await service.location(option_id))

    @post(guards=[REGISTRY_WRITERS], summary="Register a rehousing option")
    async def create_option(
        self,
        service: NamedDependency[RehousingService],
        data: Annotated[RehousingCreate, example_body("a bed for a perpetrator", REHOUSING)],
    ) -> RehousingView:
        return view(await service.create(_conditions(msgspec.structs.asdict(data))))

    @patch("/{option_id:str}", guards=[REGISTRY_WRITERS], summary="Change a rehousing option")
    async def update_option(
        self,
        service: NamedDependency[RehousingService],
        option_id: FromPath[uuid.UUID],
        data: JSONBody[RehousingUpdate],
    ) -> RehousingView:
        return view(await service.update(option_id, _conditions(sent_fields(data))))

    @delete(
        "/{option_id:str}",
        guards=[REGISTRY_WRITERS],
        status_code=200,
        summary="Retire a rehousing option",
    )
    async def retire_option(
        self, service: NamedDependency[RehousingService], option_id: FromPath[uuid.UUID]
    ) -> RehousingView:
        return view(await service.retire(option_id))
