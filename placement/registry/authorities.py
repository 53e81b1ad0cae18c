"""Authorities: reference data every other record points at. Admins maintain it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from placement.errors import Conflict, InvalidInput
from placement.fields import ONS_CODE
from placement.models import Authority
from placement.paging import Page
from placement.registry.base import RegistryService, active_only


class AuthorityService(RegistryService[Authority]):
    model = Authority
    record_type = "authority"

    def _pk(self) -> Any:
        return Authority.code

    def _id_of(self, row: Authority) -> Any:
        return row.code

    async def list(
        self,
        *,
        region: str | None,
        group_name: str | None,
        q: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[Authority]:
        stmt: Select[Any] = active_only(select(Authority), Authority, include_retired)
        if region:
            stmt = stmt.where(Authority.region == region)
        if group_name:
            stmt = stmt.where(Authority.group_name == group_name)
        if q:
            stmt = stmt.where(or_(Authority.name.ilike(f"%{q}%"), Authority.code == q))
        return await self.page(stmt.order_by(Authority.code), limit, offset)

    async def create(self, fields: dict[str, Any]) -> Authority:
        self.require_writer()
        code = fields["code"]
        if not ONS_CODE.match(code):
            raise InvalidInput("code", "an English local authority ONS code, like E08000003")
        if await self.session.get(Authority, code) is not None:
            raise Conflict(f"authority {code} already exists")
        return await self.add(Authority(**fields), fields)
