"""/api/v1/providers: organisations running schemes, with their specialisms."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from api.auth import ADMIN_ONLY, EVERYONE, REGISTRY_WRITERS
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import PROVIDER, example_body
from placement.enums import Specialism
from placement.fields import sent_fields
from placement.models import Provider
from placement.registry.providers import ProviderService

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Specialisms = Annotated[list[Specialism], Meta(max_length=len(Specialism))]


class ProviderCreate(msgspec.Struct, forbid_unknown_fields=True):
    """An organisation that runs safe-accommodation schemes."""

    name: Name
    specialisms: Specialisms = msgspec.field(default_factory=list)


class ProviderUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a provider: send only the fields that change."""

    name: Name | UnsetType = UNSET
    specialisms: Specialisms | UnsetType = UNSET


class ProviderView(msgspec.Struct):
    """An organisation that runs safe-accommodation schemes, with its specialisms."""

    id: uuid.UUID
    name: str
    specialisms: list[str]
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


def view(row: Provider) -> ProviderView:
    return msgspec.convert(row, ProviderView, from_attributes=True)


def _unique(values: list[Specialism]) -> list[str]:
    return sorted({str(v) for v in values})


class ProviderController(Controller):
    path = "/providers"
    tags = ["providers"]
    dependencies = {"service": provide(ProviderService)}

    @get(guards=[EVERYONE], summary="List providers")
    async def list_providers(
        self,
        service: NamedDependency[ProviderService],
        limit: Limit = 50,
        offset: Offset = 0,
        specialism: FromQuery[Specialism | None] = None,
        q: FromQuery[str | None] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[ProviderView]:
        page = await service.list(
            specialism=specialism, q=q, include_retired=include_retired, limit=limit, offset=offset
        )
        return page_of(page, view)

    @get("/{provider_id:str}", guards=[EVERYONE], summary="Get a provider")
    async def get_provider(
        self, service: NamedDependency[ProviderService], provider_id: FromPath[uuid.UUID]
    ) -> ProviderView:
        return view(await service.get(provider_id))

    @post(guards=[ADMIN_ONLY], summary="Register a provider")
    async def create_provider(
        self,
        service: NamedDependency[ProviderService],
        data: Annotated[ProviderCreate, example_body("a by-and-for provider", PROVIDER)],
    ) -> ProviderView:
        return view(
            await service.create({"name": data.name, "specialisms": _unique(data.specialisms)})
        )

    @patch(
        "/{provider_id:str}",
        guards=[REGISTRY_WRITERS],
        summary="Change a provider (admins, or the provider itself)",
    )
    async def update_provider(
        self,
        service: NamedDependency[ProviderService],
        provider_id: FromPath[uuid.UUID],
        data: JSONBody[ProviderUpdate],
    ) -> ProviderView:
        changes = sent_fields(data)
        if "specialisms" in changes:
            changes["specialisms"] = _unique(changes["specialisms"])
        return view(await service.update(provider_id, changes))

    @delete("/{provider_id:str}", guards=[ADMIN_ONLY], status_code=200, summary="Retire a provider")
    async def retire_provider(
        self, service: NamedDependency[ProviderService], provider_id: FromPath[uuid.UUID]
    ) -> ProviderView:
        return view(await service.retire(provider_id))
