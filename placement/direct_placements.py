"""A provider's own placement: a household that came to the refuge directly, not through
an offer (a self-referral, a helpline, another refuge's transfer).

It is recorded as a placement like any other, with a referral holding the household (so
occupancy, outcomes and the household's characteristics are in the reports), and it is
the only way besides an accepted offer that a unit becomes occupied. The referral names
the authority the household came from (for cross-border flows); the referral is placed
at once and is never matched. There is no placing officer, so no address is revealed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select

from placement import audit
from placement.characteristics import record_characteristics
from placement.enums import ReferralOutcome, ReferralStatus, RiskLevel, Role, SchemeType, UnitStatus
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.fields import AuthorityCode
from placement.holds import transition_unit
from placement.households import Household, seal
from placement.models import Authority, Placement, Referral, Scheme, Unit
from placement.referrals import PerpetratorRef, Reference
from placement.security import Principal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime


class DirectPlacement(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What the reports need of a household placed by the provider itself."""

    reference: Reference
    """The provider's own pseudonymous case reference (no names)."""
    authority_code: AuthorityCode
    """The authority the household came from."""
    risk_level: RiskLevel
    marac: bool = False
    perpetrator_ref: PerpetratorRef | None = None
    moved_in_on: date | None = None
    """The day the household moved in (today if not sent); never in the future."""
    household: Household


class DirectPlacementService:
    record_type = "placement"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.cipher = runtime.cipher

    async def record(self, unit_id: uuid.UUID, data: DirectPlacement) -> Placement:
        """Place the household in the provider's available unit; audited."""
        if self.principal.role is not Role.PROVIDER:
            raise Forbidden("only the unit's provider can record a placement it made itself")
        scheme_type = await self._require_own_unit(unit_id)
        moved_in_on = data.moved_in_on or date.today()
        if moved_in_on > date.today():
            raise InvalidInput("moved_in_on", "must not be in the future")
        authority = await self.session.get(Authority, data.authority_code)
        if authority is None or authority.retired_at is not None:
            raise InvalidInput("authority_code", f"no authority with code {data.authority_code}")
        taken = await self.session.scalar(
            select(Referral.id).where(
                Referral.authority_code == data.authority_code,
                Referral.reference == data.reference,
            )
        )
        if taken is not None:
            raise Conflict(
                f"a referral with reference {data.reference} is already on record for "
                f"{authority.name}: choose another reference",
                field="reference",
            )
        moved_in_at = (
            datetime.now(UTC)
            if moved_in_on == date.today()
            else datetime.combine(moved_in_on, time(12), UTC)
        )
        if not await transition_unit(
            self.session, unit_id, UnitStatus.AVAILABLE, UnitStatus.OCCUPIED
        ):
            status = await self.session.scalar(select(Unit.status).where(Unit.id == unit_id))
            raise Conflict(
                f"unit {unit_id} is {status}, not available: only an available unit can "
                "take a household",
                unit_status=str(status),
            )
        referral = Referral(
            reference=data.reference,
            authority_code=data.authority_code,
            status=ReferralStatus.PLACED,
            risk_level=data.risk_level,
            marac=data.marac,
            referred_on=moved_in_on,
            perpetrator_ref=data.perpetrator_ref,
            details_ciphertext=seal(self.cipher, data.household),
            created_by_key_id=self.principal.key_id,
            outcome=ReferralOutcome.PLACED,
            outcome_at=moved_in_at,
            outcome_scheme_type=scheme_type,
        )
        self.session.add(referral)
        await self.session.flush()
        await record_characteristics(self.session, referral.id, data.household, new=True)
        placement = Placement(
            referral_id=referral.id, unit_id=unit_id, offer_id=None, moved_in_at=moved_in_at
        )
        self.session.add(placement)
        await self.session.flush()
        audit.record(self.session, self.principal, "create", "referral", referral.id, direct=True)
        audit.record(
            self.session,
            self.principal,
            "create",
            self.record_type,
            placement.id,
            unit_id=str(unit_id),
            referral_id=str(referral.id),
            direct=True,
        )
        return placement

    async def _require_own_unit(self, unit_id: uuid.UUID) -> SchemeType:
        """The unit's scheme's type, if the unit is the provider's own (404 if not)."""
        found = await self.session.scalar(
            select(Scheme.scheme_type)
            .select_from(Unit)
            .join(Scheme, Scheme.id == Unit.scheme_id)
            .where(
                Unit.id == unit_id,
                Unit.retired_at.is_(None),
                Scheme.provider_id == self.principal.provider_id,
            )
        )
        if found is None:
            raise NotFound("unit", unit_id)
        return SchemeType(found)
