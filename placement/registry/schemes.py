"""Schemes: refuges and other safe accommodation, and their secret locations.

Providers see and change only their own schemes. The exact location is decrypted only
for the scheme's own provider (and, after an accepted offer, the placing officer), and
every such read is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from placement import geography
from placement.enums import Role
from placement.errors import Forbidden, InvalidInput
from placement.models import Scheme
from placement.paging import Page
from placement.registry.base import ProviderOwnedService, active_only
from placement.registry.locations import check_location, seal, split_location


class SchemeService(ProviderOwnedService[Scheme]):
    model = Scheme
    record_type = "scheme"

    async def list(
        self,
        *,
        provider_id: uuid.UUID | None,
        authority_code: str | None,
        scheme_type: str | None,
        gender_policy: str | None,
        postcode_district: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[Scheme]:
        stmt: Select[Any] = active_only(select(Scheme), Scheme, include_retired)
        for column, value in (
            (Scheme.provider_id, provider_id),
            (Scheme.authority_code, authority_code),
            (Scheme.scheme_type, scheme_type),
            (Scheme.gender_policy, gender_policy),
            (Scheme.postcode_district, postcode_district),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        return await self.page(stmt.order_by(Scheme.authority_code, Scheme.id), limit, offset)

    async def create(self, fields: dict[str, Any]) -> Scheme:
        self.require_writer()
        if self.principal.role is Role.PROVIDER and fields["provider_id"] != (
            self.principal.provider_id
        ):
            raise Forbidden("a provider can register schemes only for itself")
        await self.validate(fields)
        location, rest = split_location(fields)
        location = check_location(location, rest["authority_code"])
        scheme = Scheme(
            **rest,
            postcode_district=geography.outcode_of(location["postcode"]),
            location_ciphertext=seal(self.cipher, location),
        )
        return await self.add(scheme, fields)

    async def update(self, record_id: Any, changes: dict[str, Any]) -> Scheme:
        scheme = await self.get_for_write(record_id)
        await self.validate(changes, scheme)
        location, rest = split_location(changes)
        authority_code = rest.get("authority_code", scheme.authority_code)
        if location or "authority_code" in rest:
            merged = check_location(
                {**self.cipher.decrypt_json(scheme.location_ciphertext), **location}, authority_code
            )
            rest["location_ciphertext"] = seal(self.cipher, merged)
            rest["postcode_district"] = geography.outcode_of(merged["postcode"])
        changed = self.apply(scheme, rest)
        await self.session.flush()
        self.audit("update", record_id, fields=sorted(set(changed) | set(location)))
        return scheme

    async def validate(self, fields: dict[str, Any], existing: Scheme | None = None) -> None:
        if "provider_id" in fields:
            if existing is not None and fields["provider_id"] != existing.provider_id:
                raise InvalidInput("provider_id", "a scheme cannot move to another provider")
            await self.require_provider(fields["provider_id"])
        if "authority_code" in fields:
            await self.require_authority(fields["authority_code"])

    async def location(self, record_id: uuid.UUID) -> dict[str, Any]:
        """The decrypted address and coordinates: the scheme's own provider only."""
        if self.principal.role is not Role.PROVIDER:
            raise Forbidden("only the scheme's own provider can read its address")
        scheme = await self.get(record_id)
        self.audit("read_location", record_id)
        return dict(self.cipher.decrypt_json(scheme.location_ciphertext))
