"""Offers: a unit held for one household for a limited time, then accepted or not.

No double booking: making an offer moves the unit from available to held with a
conditional UPDATE, so of two officers racing for a unit exactly one wins; a partial
unique index (one live offer per unit) backs that up in the database itself. Units move
status only through `placement.holds`, where expired holds are released too.

Before a unit is held, the pair is checked against the matcher's hard rules through the
matching service: the same rules as the ranked matches, so an offer can never hold a unit
that matching would rule out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, update

from optimiser.reasons import explain_exclusion
from placement import audit
from placement.enums import OfferStatus, ReferralOutcome, ReferralStatus, Role, UnitStatus
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.holds import (
    release_expired,
    transition_unit,
    withdraw_live_offers,
    withdraw_live_perpetrator_moves,
)
from placement.households import HouseholdNeeds, needs_of, unseal
from placement.matching.service import MatchService
from placement.models import Offer, Placement, Referral, Scheme, Unit
from placement.paging import Page, paginate
from placement.scopes import booking_scope

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime
    from placement.security import Principal


class OfferService:
    record_type = "offer"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.cipher = runtime.cipher
        self.hold = runtime.offer_hold
        self.matcher = MatchService(session, principal, runtime)

    # -- scope -------------------------------------------------------------------------
    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """Officers see offers for their authority's referrals; providers, offers on their units."""
        return booking_scope(
            stmt, self.principal, Offer.referral_id, Offer.unit_id, "work with offers"
        )

    async def list(
        self, *, status: str | None, referral_id: uuid.UUID | None, limit: int, offset: int
    ) -> Page[Offer]:
        stmt = self.visible(select(Offer))
        if status:
            stmt = stmt.where(Offer.status == status)
        if referral_id:
            stmt = stmt.where(Offer.referral_id == referral_id)
        return await paginate(
            self.session, stmt.order_by(Offer.created_at.desc(), Offer.id), limit, offset
        )

    async def get(self, offer_id: uuid.UUID) -> Offer:
        offer = await self.session.scalar(self.visible(select(Offer)).where(Offer.id == offer_id))
        if offer is None:
            raise NotFound(self.record_type, offer_id)
        return offer

    async def accepted(self, offer_id: uuid.UUID) -> tuple[Offer, Placement]:
        """An accepted offer and the placement it made, as `accept` answered (for a retry)."""
        offer = await self.get(offer_id)
        placement = await self.session.scalars(
            select(Placement).where(Placement.offer_id == offer.id)
        )
        return offer, placement.one()

    async def needs(self, offer: Offer) -> HouseholdNeeds:
        """The household's needs for the provider deciding on an offer (audited read)."""
        referral = await self.session.get(Referral, offer.referral_id)
        assert referral is not None
        audit.record(
            self.session,
            self.principal,
            "read_needs",
            "referral",
            referral.id,
            offer_id=str(offer.id),
        )
        return needs_of(unseal(self.cipher, referral.details_ciphertext), referral.risk_level)

    # -- transitions -------------------------------------------------------------------
    async def make(
        self, referral_id: uuid.UUID, unit_id: uuid.UUID, *, now: datetime | None = None
    ) -> Offer:
        """Hold the unit for the household (`now`, here and in the other transitions, is
        for recording history with `placement seed --history`; the API never sets it)."""
        if not self.principal.is_officer:
            raise Forbidden("only housing officers and integrations make offers")
        try:
            case = await self.matcher.case(referral_id)
        except NotFound:
            raise InvalidInput(
                "referral_id", f"no referral {referral_id} in your authority"
            ) from None
        referral = case.referral
        if referral.status is not ReferralStatus.OPEN:
            raise Conflict(f"referral {referral_id} is {referral.status}, not open")
        unit = self.matcher.live_unit(unit_id)
        if unit is None:
            raise InvalidInput("unit_id", f"no unit {unit_id}")
        # The household is read here whatever happens next (a refusal says which of its
        # needs the unit fails), so its read is committed now by the read audit, not with
        # an offer that may be refused; and before this transaction writes anything, as
        # on SQLite the read audit's own writer would otherwise wait for this one's lock.
        household = await self.matcher.referrals.household(referral, purpose="offer_check")
        now = now or datetime.now(UTC)
        await release_expired(self.session, unit_id=unit_id, now=now)
        if broken := await self.matcher.rules_broken(case, household, unit, now.date()):
            raise InvalidInput(
                "unit_id",
                "this unit cannot be offered to this household: " + explain_exclusion(broken),
            )
        if not await transition_unit(self.session, unit_id, UnitStatus.AVAILABLE, UnitStatus.HELD):
            current = await self.session.scalar(select(Unit.status).where(Unit.id == unit_id))
            raise Conflict(
                f"unit {unit_id} is {current}, not available: it cannot be offered",
                unit_status=str(current),
            )
        offer = Offer(
            referral_id=referral_id,
            unit_id=unit_id,
            status=OfferStatus.LIVE,
            expires_at=now + self.hold,
            made_by_key_id=self.principal.key_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(offer)
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "create",
            self.record_type,
            offer.id,
            unit_id=str(unit_id),
            referral_id=str(referral_id),
        )
        return offer

    async def accept(
        self, offer_id: uuid.UUID, *, now: datetime | None = None
    ) -> tuple[Offer, Placement]:
        """Place the household: the referral's outcome is `placed`, in the unit's scheme's
        accommodation type, and the unit is occupied."""
        if self.principal.role is not Role.PROVIDER:
            raise Forbidden("only the unit's provider can accept an offer")
        now = now or datetime.now(UTC)
        offer = await self.get(offer_id)
        referral_id = offer.referral_id
        scheme_type = (
            select(Scheme.scheme_type)
            .join(Unit, Unit.scheme_id == Scheme.id)
            .join(Offer, Offer.unit_id == Unit.id)
            .where(Offer.id == offer_id)
            .scalar_subquery()
        )
        # The household first (the lock order of closing a referral, so two acceptances
        # for one household cannot deadlock): it is placed once, through one offer.
        placed = await self.session.execute(
            update(Referral)
            .where(Referral.id == referral_id, Referral.status == ReferralStatus.OPEN)
            .values(
                status=ReferralStatus.PLACED,
                outcome=ReferralOutcome.PLACED,
                outcome_at=now,
                outcome_scheme_type=scheme_type,
                updated_at=now,
            )
        )
        offer = await self._decide(offer, Role.PROVIDER, OfferStatus.ACCEPTED, now=now)
        if not placed.rowcount:  # type: ignore[attr-defined]
            status = await self.session.scalar(
                select(Referral.status).where(Referral.id == referral_id)
            )
            raise Conflict(
                f"the household of this offer is {status}, no longer waiting: the offer "
                "cannot be accepted",
                referral_status=str(status),
            )
        if not await transition_unit(
            self.session, offer.unit_id, UnitStatus.HELD, UnitStatus.OCCUPIED
        ):
            raise Conflict(f"unit {offer.unit_id} is no longer held for this offer")
        placement = Placement(
            referral_id=offer.referral_id,
            unit_id=offer.unit_id,
            offer_id=offer.id,
            moved_in_at=now,
            created_at=now,
            updated_at=now,
        )
        self.session.add(placement)
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "create",
            "placement",
            placement.id,
            offer_id=str(offer.id),
        )
        await withdraw_live_offers(
            self.session,
            self.principal,
            offer.referral_id,
            f"the household was placed through offer {offer.id}",
            now=now,
        )
        await withdraw_live_perpetrator_moves(
            self.session,
            self.principal,
            offer.referral_id,
            f"the household was placed through offer {offer.id}",
            now=now,
        )
        return offer, placement

    async def decline(
        self, offer_id: uuid.UUID, reason: str, note: str | None, *, now: datetime | None = None
    ) -> Offer:
        offer = await self._decide(
            offer_id,
            Role.PROVIDER,
            OfferStatus.DECLINED,
            now=now,
            decline_reason=reason,
            decline_note=note,
        )
        await transition_unit(self.session, offer.unit_id, UnitStatus.HELD, UnitStatus.AVAILABLE)
        return offer

    async def withdraw(self, offer_id: uuid.UUID, *, now: datetime | None = None) -> Offer:
        offer = await self._decide(offer_id, None, OfferStatus.WITHDRAWN, now=now)
        await transition_unit(self.session, offer.unit_id, UnitStatus.HELD, UnitStatus.AVAILABLE)
        return offer

    async def _decide(
        self,
        offer_or_id: Offer | uuid.UUID,
        role: Role | None,
        outcome: OfferStatus,
        *,
        now: datetime | None = None,
        **values: Any,
    ) -> Offer:
        """Move a live, unexpired offer to `outcome`; providers decide, officers withdraw.

        Takes the offer itself when the caller has just read it (through `get`, so in the
        caller's scope), rather than reading it again. The UPDATE returns the decided
        offer, so nothing is read after it either.
        """
        if role is Role.PROVIDER and self.principal.role is not Role.PROVIDER:
            raise Forbidden(f"only the unit's provider can set an offer {outcome}")
        if role is None and not self.principal.is_officer:
            raise Forbidden("only the referring authority's officers can withdraw an offer")
        offer = offer_or_id if isinstance(offer_or_id, Offer) else await self.get(offer_or_id)
        offer_id = offer.id
        now = now or datetime.now(UTC)
        if offer.status is not OfferStatus.LIVE:
            raise Conflict(
                f"offer {offer_id} is {offer.status}; only a live offer can be {outcome}",
                offer_status=str(offer.status),
            )
        if offer.expires_at <= now:
            raise Conflict(
                f"offer {offer_id} expired at {offer.expires_at.isoformat()}",
                offer_status="expired",
            )
        decided = await self.session.scalar(
            update(Offer)
            .where(Offer.id == offer_id, Offer.status == OfferStatus.LIVE, Offer.expires_at > now)
            .values(
                status=outcome,
                decided_at=now,
                decided_by_key_id=self.principal.key_id,
                updated_at=now,
                **values,
            )
            .returning(Offer),
            execution_options={"populate_existing": True},
        )
        if decided is None:
            raise Conflict(f"offer {offer_id} was decided by someone else just now")
        audit.record(
            self.session,
            self.principal,
            str(outcome),
            self.record_type,
            offer_id,
            **{k: str(v) for k, v in values.items() if k == "decline_reason"},
        )
        return decided
