"""Row filters shared by the records that tie a household to a unit (offers, placements).

One definition, because it decides who sees a booking: the referring authority's
officers (through the referral) and the unit's provider (through the unit's scheme).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from placement.enums import Role
from placement.errors import Forbidden
from placement.models import Referral, Scheme, Unit
from placement.security import Principal


def booking_scope(
    stmt: Select[Any], principal: Principal, referral_id: Any, unit_id: Any, what: str
) -> Select[Any]:
    """Restrict `stmt` (over offers or placements) to the rows `principal` may see."""
    if principal.is_officer:
        return stmt.join(Referral, Referral.id == referral_id).where(
            Referral.authority_code == principal.authority_code
        )
    if principal.role is Role.PROVIDER:
        return (
            stmt.join(Unit, Unit.id == unit_id)
            .join(Scheme, Scheme.id == Unit.scheme_id)
            .where(Scheme.provider_id == principal.provider_id)
        )
    raise Forbidden(f"only housing officers, integrations and providers {what}")
