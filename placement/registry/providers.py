"""Providers: the organisations running schemes. A provider may edit its own entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from placement.enums import Role
from placement.errors import Forbidden
from placement.models import Provider
from placement.paging import Page
from placement.registry.base import RegistryService, active_only
from placement.sql import json_array_contains


class ProviderService(RegistryService[Provider]):
    model = Provider
    record_type = "provider"
    writers = frozenset({Role.ADMIN, Role.PROVIDER})

    def writable(self, stmt: Select[Any]) -> Select[Any]:
        if self.principal.role is Role.PROVIDER:
            return stmt.where(Provider.id == self.principal.provider_id)
        return stmt

    async def list(
        self,
        *,
        specialism: str | None,
        q: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[Provider]:
        stmt: Select[Any] = active_only(select(Provider), Provider, include_retired)
        if q:
            stmt = stmt.where(Provider.name.ilike(f"%{q}%"))
        if specialism:
            stmt = stmt.where(json_array_contains(Provider.specialisms, specialism))
        return await self.page(stmt.order_by(Provider.name, Provider.id), limit, offset)

    async def create(self, fields: dict[str, Any]) -> Provider:
        self._require_admin("register providers")
        return await self.add(Provider(**fields), fields)

    async def retire(self, record_id: Any) -> Provider:
        self._require_admin("retire providers")
        return await super().retire(record_id)

    def _require_admin(self, what: str) -> None:
        if not self.principal.is_admin:
            raise Forbidden(f"only administrators {what}")
