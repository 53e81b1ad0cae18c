"""Authorities: reference data every other record points at. Admins maintain it.

Only real ones: a code from the ONS list of current English local authorities
(`placement/geodata/england_local_authorities.csv`), in its own region (one of the nine
English regions), with a point, if one is given, inside its own boundary.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.errors import Conflict, InvalidInput
from placement.geography import ENGLISH_REGIONS, local_authorities, within_authority
from placement.models import Authority
from placement.paging import Page
from placement.registry.base import RegistryService, active_only
from placement.security import Principal


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
        if code not in local_authorities():
            raise InvalidInput(
                "code",
                f"{code} is not the ONS code of a current English local authority "
                "(like E08000003, Manchester)",
            )
        await self.validate(fields)
        if await self.session.get(Authority, code) is not None:
            raise Conflict(f"authority {code} already exists")
        return await self.add(Authority(**fields), fields)

    async def validate(self, fields: dict[str, Any], existing: Authority | None = None) -> None:
        """The region is the authority's own; its point lies within its boundary."""
        official = local_authorities()[existing.code if existing else fields["code"]]
        if "region" in fields:
            region = fields["region"]
            if region not in ENGLISH_REGIONS:
                raise InvalidInput(
                    "region",
                    "one of the nine English regions: " + ", ".join(sorted(ENGLISH_REGIONS)),
                )
            if region != official.region:
                raise InvalidInput("region", f"{official.name} is in {official.region}")
        latitude = fields.get("latitude", existing.latitude if existing else None)
        longitude = fields.get("longitude", existing.longitude if existing else None)
        if (latitude is None) != (longitude is None):
            missing = "latitude" if latitude is None else "longitude"
            raise InvalidInput(missing, "latitude and longitude are given together")
        if (
            latitude is not None
            and longitude is not None
            and not within_authority(official.code, latitude, longitude)
        ):
            raise InvalidInput(
                "latitude", f"the point ({latitude}, {longitude}) is not in {official.name}"
            )


async def load_reference_authorities(session: AsyncSession, principal: Principal) -> int:
    """Add every authority of the ONS list not yet present; returns how many were added.

    Reference data, needed before anything else can be registered, so a new database
    gets it from `placement seed --scale reference` or a first `placement serve`.
    Authorities already present are left as an admin set them.
    """
    present = set(await session.scalars(select(Authority.code)))
    missing = [a for code, a in sorted(local_authorities().items()) if code not in present]
    session.add_all(
        Authority(
            code=a.code,
            name=a.name,
            region=a.region,
            group_name=a.group_name,
            latitude=a.latitude,
            longitude=a.longitude,
        )
        for a in missing
    )
    await session.flush()
    if missing:
        audit.record(session, principal, "load", "authority", None, count=len(missing))
    return len(missing)
