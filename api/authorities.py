"""/api/v1/authorities: the local authorities every record points at."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import UNSET, Meta, UnsetType

from api.auth import ADMIN_ONLY, EVERYONE
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import AUTHORITY, example_body
from placement.fields import AuthorityCode, sent_fields
from placement.models import Authority
from placement.registry.authorities import AuthorityService

Name = Annotated[str, Meta(min_length=1, max_length=120)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]


class AuthorityCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A local housing authority in England, by its ONS code."""

    code: AuthorityCode
    name: Name
    region: Name
    group_name: Name | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class AuthorityUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Change an authority: send only the fields that change (its code never does)."""

    name: Name | UnsetType = UNSET
    region: Name | UnsetType = UNSET
    group_name: Name | UnsetType | None = UNSET
    latitude: Latitude | UnsetType | None = UNSET
    longitude: Longitude | UnsetType | None = UNSET


class AuthorityView(msgspec.Struct):
    """A local housing authority, its region and (if any) its group of authorities."""

    code: str
    name: str
    region: str
    group_name: str | None
    latitude: float | None
    longitude: float | None
    retired_at: datetime | None


def view(row: Authority) -> AuthorityView:
    return msgspec.convert(row, AuthorityView, from_attributes=True)


class AuthorityController(Controller):
    path = "/authorities"
    tags = ["authorities"]
    dependencies = {"service": provide(AuthorityService)}

    @get(guards=[EVERYONE], summary="List authorities")
    async def list_authorities(
        self,
        service: NamedDependency[AuthorityService],
        limit: Limit = 50,
        offset: Offset = 0,
        region: FromQuery[str | None] = None,
        group_name: FromQuery[str | None] = None,
        q: Annotated[str | None, QueryParameter(description="name contains, or exact code")] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[AuthorityView]:
        page = await service.list(
            region=region,
            group_name=group_name,
            q=q,
            include_retired=include_retired,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)

    @get("/{code:str}", guards=[EVERYONE], summary="Get an authority")
    async def get_authority(
        self, service: NamedDependency[AuthorityService], code: FromPath[str]
    ) -> AuthorityView:
        return view(await service.get(code))

    @post(guards=[ADMIN_ONLY], summary="Register an authority")
    async def create_authority(
        self,
        service: NamedDependency[AuthorityService],
        data: Annotated[AuthorityCreate, example_body("a metropolitan borough", AUTHORITY)],
    ) -> AuthorityView:
        return view(await service.create(msgspec.structs.asdict(data)))

    @patch("/{code:str}", guards=[ADMIN_ONLY], summary="Change an authority")
    async def update_authority(
        self,
        service: NamedDependency[AuthorityService],
        code: FromPath[str],
        data: JSONBody[AuthorityUpdate],
    ) -> AuthorityView:
        return view(await service.update(code, sent_fields(data)))

    @delete("/{code:str}", guards=[ADMIN_ONLY], status_code=200, summary="Retire an authority")
    async def retire_authority(
        self, service: NamedDependency[AuthorityService], code: FromPath[str]
    ) -> AuthorityView:
        return view(await service.retire(code))
