"""The area a report covers, and who may ask for it.

An authority's report shows exact figures; a region's, a group's (such as Greater
Manchester) and England's are rounded to the nearest 10, as the published statistics
are. A commissioner gets only the area their key is scoped to: a key for an authority
gets that authority, a key for a region or group gets that region or group (not the
authorities in it, so nobody holds both a rounded total and the exact figures under it);
admins get any area. Another area is 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.enums import Role
from placement.errors import Forbidden, InvalidInput, NotFound
from placement.geography import ENGLISH_REGIONS
from placement.models import Authority
from placement.security import Principal

ENGLAND = "England"


@dataclass(frozen=True, slots=True)
class Area:
    kind: str
    """`authority`, `region`, `group` or `national`."""
    code: str
    """The authority's ONS code, or the region's or group's name, or `England`."""
    name: str
    authorities: frozenset[str]

    @property
    def rounded(self) -> bool:
        """Regional and national figures are rounded to the nearest 10."""
        return self.kind != "authority"


async def choose(
    session: AsyncSession, principal: Principal, authority: str | None, region: str | None
) -> Area:
    """The area asked for (by default the key's own), if the principal may read it."""
    if principal.role not in (Role.ADMIN, Role.COMMISSIONER):
        raise Forbidden("only commissioners and admins read reports")
    if authority and region:
        raise InvalidInput("region", "ask for an authority or a region, not both")
    if principal.role is Role.COMMISSIONER:
        own_authority, own_region = principal.authority_code, principal.region
        if not authority and not region:
            authority, region = own_authority, own_region
        if (authority and authority != own_authority) or (region and region != own_region):
            raise NotFound("report area", authority or region)
    if authority:
        return await _authority(session, authority)
    if region and region != ENGLAND:
        return await _region(session, region)
    codes = await session.scalars(select(Authority.code).where(Authority.retired_at.is_(None)))
    return Area("national", ENGLAND, ENGLAND, frozenset(codes))


async def _authority(session: AsyncSession, code: str) -> Area:
    row = await session.get(Authority, code)
    if row is None:
        raise NotFound("authority", code)
    return Area("authority", row.code, row.name, frozenset({row.code}))


async def _region(session: AsyncSession, name: str) -> Area:
    column = Authority.region if name in ENGLISH_REGIONS else Authority.group_name
    codes = frozenset(await session.scalars(select(Authority.code).where(column == name)))
    if not codes:
        raise NotFound("region or group", name)
    kind = "region" if name in ENGLISH_REGIONS else "group"
    return Area(kind, name, name, codes)
