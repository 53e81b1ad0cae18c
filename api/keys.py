"""/api/v1/keys: administrators issue and revoke API keys. A key is shown once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from msgspec import Meta
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN_ONLY
from api.common import Limit, Offset, Page, page_of
from api.examples import KEY, example_body
from placement import audit
from placement.enums import Role
from placement.errors import NotFound
from placement.fields import AuthorityCode
from placement.models import ApiKey
from placement.security import Principal, create_api_key, list_keys, revoke_key


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new API key: its role and the scope it acts in (an authority, a provider or a
    region)."""

    name: Annotated[str, Meta(min_length=1, max_length=120)]
    role: Role
    authority_code: AuthorityCode | None = None
    provider_id: uuid.UUID | None = None
    region: Annotated[str, Meta(min_length=1, max_length=120)] | None = None


class KeyView(msgspec.Struct):
    """An API key as listed: never the key itself, only its first characters."""

    id: uuid.UUID
    name: str
    role: Role
    authority_code: str | None
    provider_id: uuid.UUID | None
    region: str | None
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewKey(msgspec.Struct):
    """The key itself appears here once and is never retrievable again."""

    key: str
    details: KeyView


def view(row: ApiKey) -> KeyView:
    return msgspec.convert(row, KeyView, from_attributes=True)


class KeyController(Controller):
    path = "/keys"
    tags = ["keys"]
    guards = [ADMIN_ONLY]

    @get(summary="List API keys (never the keys themselves)")
    async def list_api_keys(
        self, db_session: NamedDependency[AsyncSession], limit: Limit = 50, offset: Offset = 0
    ) -> Page[KeyView]:
        return page_of(await list_keys(db_session, limit, offset), view)

    @post(summary="Issue an API key")
    async def create_key(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[KeyCreate, example_body("an officer's key", KEY)],
    ) -> NewKey:
        row, plaintext = await create_api_key(db_session, **msgspec.structs.asdict(data))
        audit.record(db_session, principal, "create", "api_key", row.id, role=str(row.role))
        return NewKey(key=plaintext, details=view(row))

    @delete("/{key_id:str}", status_code=200, summary="Revoke an API key")
    async def revoke(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        key_id: FromPath[uuid.UUID],
        state: State,
    ) -> KeyView:
        row, revoked = await revoke_key(db_session, key_id)
        state.principals.forget(key_id)
        if row is None:
            raise NotFound("api_key", key_id)
        if revoked:
            audit.record(db_session, principal, "revoke", "api_key", key_id)
        return view(row)
