"""/api/v1/units: rooms, flats and houses, as area and features (never an address)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UNSET, Meta, UnsetType

from api.auth import PROVIDERS, REGISTRY_READERS, REGISTRY_WRITERS
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import UNIT, UNIT_CHANGE, example_body
from api.placements import PlacementView, placement_view
from placement.direct_placements import DirectPlacement, DirectPlacementService
from placement.enums import AccessFeature, OutOfServiceReason, SchemeType, UnitStatus
from placement.fields import sent_fields
from placement.models import Unit
from placement.registry.units import UnitService

Label = Annotated[str, Meta(min_length=1, max_length=80)]
Bedrooms = Annotated[int, Meta(ge=0, le=20)]
BedSpaces = Annotated[int, Meta(ge=1, le=40)]
Cots = Annotated[int, Meta(ge=0, le=10)]
Features = Annotated[list[AccessFeature], Meta(max_length=len(AccessFeature))]
Version = Annotated[int, Meta(ge=1, le=2_147_483_647, description="the version you last read")]


class UnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A room, flat or house in a scheme, with the space it offers."""

    scheme_id: uuid.UUID
    label: Label
    bedrooms: Bedrooms
    bed_spaces: BedSpaces
    cots: Cots = 0
    access_features: Features = msgspec.field(default_factory=list)
    status: UnitStatus = UnitStatus.AVAILABLE
    """available or out_of_service: offers and placements make a unit held or occupied."""
    out_of_service_reason: OutOfServiceReason | None = None
    """Required with out_of_service."""
    expected_back_on: date | None = None
    """When an out-of-service unit is expected back (not in the past), if known."""
    available_from: date | None = None


class UnitUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a unit: send the version you read and only the fields that change."""

    version: Version
    label: Label | UnsetType = UNSET
    bedrooms: Bedrooms | UnsetType = UNSET
    bed_spaces: BedSpaces | UnsetType = UNSET
    cots: Cots | UnsetType = UNSET
    access_features: Features | UnsetType = UNSET
    status: UnitStatus | UnsetType = UNSET
    out_of_service_reason: OutOfServiceReason | UnsetType | None = UNSET
    expected_back_on: date | UnsetType | None = UNSET
    available_from: date | UnsetType = UNSET


class UnitView(msgspec.Struct):
    """A unit as officers see it: where (district, authority) and what, not which door."""

    id: uuid.UUID
    scheme_id: uuid.UUID
    scheme_type: SchemeType
    authority_code: str
    postcode_district: str
    label: str
    bedrooms: int
    bed_spaces: int
    cots: int
    access_features: list[str]
    status: UnitStatus
    out_of_service_reason: OutOfServiceReason | None
    expected_back_on: date | None
    available_from: date
    version: int
    updated_at: datetime
    retired_at: datetime | None


def view(unit: Unit) -> UnitView:
    return UnitView(
        id=unit.id,
        scheme_id=unit.scheme_id,
        scheme_type=unit.scheme.scheme_type,
        authority_code=unit.scheme.authority_code,
        postcode_district=unit.scheme.postcode_district,
        label=unit.label,
        bedrooms=unit.bedrooms,
        bed_spaces=unit.bed_spaces,
        cots=unit.cots,
        access_features=list(unit.access_features),
        status=unit.status,
        out_of_service_reason=unit.out_of_service_reason,
        expected_back_on=unit.expected_back_on,
        available_from=unit.available_from,
        version=unit.version,
        updated_at=unit.updated_at,
        retired_at=unit.retired_at,
    )


def _features(fields: dict[str, object]) -> dict[str, object]:
    if "access_features" in fields:
        fields["access_features"] = sorted({str(f) for f in fields["access_features"]})  # type: ignore[attr-defined]
    return fields


class UnitController(Controller):
    path = "/units"
    tags = ["units"]
    dependencies = {
        "service": provide(UnitService),
        "direct": provide(DirectPlacementService),
    }

    @get(guards=[REGISTRY_READERS], summary="List units (providers: their own)")
    async def list_units(
        self,
        service: NamedDependency[UnitService],
        limit: Limit = 50,
        offset: Offset = 0,
        scheme_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[UnitStatus | None] = None,
        authority_code: FromQuery[str | None] = None,
        scheme_type: FromQuery[SchemeType | None] = None,
        min_bed_spaces: Annotated[
            int | None, QueryParameter(ge=1, le=40, description="at least this many bed spaces")
        ] = None,
        access_feature: FromQuery[AccessFeature | None] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[UnitView]:
        page = await service.list(
            scheme_id=scheme_id,
            status=status,
            authority_code=authority_code,
            scheme_type=scheme_type,
            min_bed_spaces=min_bed_spaces,
            access_feature=access_feature,
            include_retired=include_retired,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)

    @get("/{unit_id:str}", guards=[REGISTRY_READERS], summary="Get a unit")
    async def get_unit(
        self, service: NamedDependency[UnitService], unit_id: FromPath[uuid.UUID]
    ) -> UnitView:
        return view(await service.get(unit_id))

    @post(guards=[REGISTRY_WRITERS], summary="Add a unit to a scheme")
    async def create_unit(
        self,
        service: NamedDependency[UnitService],
        data: Annotated[UnitCreate, example_body("a two-bedroom flat", UNIT)],
    ) -> UnitView:
        fields = _features(msgspec.structs.asdict(data))
        if fields["available_from"] is None:
            del fields["available_from"]
        return view(await service.create(fields))

    @patch(
        "/{unit_id:str}",
        guards=[REGISTRY_WRITERS],
        summary="Change a unit; send the version you read (409 if it has moved on)",
    )
    async def update_unit(
        self,
        service: NamedDependency[UnitService],
        unit_id: FromPath[uuid.UUID],
        data: Annotated[UnitUpdate, example_body("take a unit out of service", UNIT_CHANGE)],
    ) -> UnitView:
        changes = _features(sent_fields(data))
        del changes["version"]
        return view(await service.update_versioned(unit_id, data.version, changes))

    @delete("/{unit_id:str}", guards=[REGISTRY_WRITERS], status_code=200, summary="Retire a unit")
    async def retire_unit(
        self, service: NamedDependency[UnitService], unit_id: FromPath[uuid.UUID]
    ) -> UnitView:
        return view(await service.retire(unit_id))

    @post(
        "/{unit_id:str}/direct-placements",
        guards=[PROVIDERS],
        summary="Record a household you placed yourself, not through an offer",
        description="The unit must be available; it becomes occupied. The household is "
        "kept as a placed referral of the authority it came from, for the reports.",
    )
    async def record_direct_placement(
        self,
        direct: NamedDependency[DirectPlacementService],
        unit_id: FromPath[uuid.UUID],
        data: JSONBody[DirectPlacement],
    ) -> PlacementView:
        return placement_view(await direct.record(unit_id, data))
