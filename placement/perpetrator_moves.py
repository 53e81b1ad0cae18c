"""Perpetrator moves: a rehousing option booked for a referral's perpetrator, like a
placement, so the household can stay at home and "perpetrator moves" are counted from
records.

An officer holds an option for one of their referrals: the pair is checked against the
matcher's perpetrator-move rules (the same as the ranked perpetrator options), and the
option moves from available to occupied by a conditional UPDATE, so of two officers
racing for it exactly one wins; partial unique indexes (one live move per option and
per referral) back that up in the database. The officer then records that the
perpetrator moved in (`accept`: the referral ends with the outcome `perpetrator_moved`,
and any unit held for the household is released) or withdraws the hold; an accepted
move ends when the perpetrator leaves the option (`end`), which frees it.

Officers see the moves of their authority's referrals; an option's provider sees the
moves into its options, and may record the move's end, never the household.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, update

from optimiser.reasons import explain_exclusion
from placement import audit
from placement.enums import (
    PerpetratorMoveStatus,
    ReferralOutcome,
    ReferralStatus,
    RehousingStatus,
    Role,
)
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.holds import transition_option, withdraw_live_offers
from placement.matching.service import MatchService
from placement.models import PerpetratorMove, Referral, RehousingOption
from placement.paging import Page, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime
    from placement.security import Principal

LIVE = (PerpetratorMoveStatus.HELD, PerpetratorMoveStatus.ACCEPTED)


class PerpetratorMoveService:
    record_type = "perpetrator_move"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.matcher = MatchService(session, principal, runtime)

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """Officers: moves for their authority's referrals; providers: into their options."""
        if self.principal.is_officer:
            return stmt.join(Referral, Referral.id == PerpetratorMove.referral_id).where(
                Referral.authority_code == self.principal.authority_code
            )
        if self.principal.role is Role.PROVIDER:
            return stmt.join(
                RehousingOption, RehousingOption.id == PerpetratorMove.option_id
            ).where(RehousingOption.provider_id == self.principal.provider_id)
        raise Forbidden("only housing officers, integrations and providers see perpetrator moves")

    async def list(
        self,
        *,
        status: PerpetratorMoveStatus | None,
        referral_id: uuid.UUID | None,
        limit: int,
        offset: int,
    ) -> Page[PerpetratorMove]:
        stmt = self.visible(select(PerpetratorMove))
        if status is not None:
            stmt = stmt.where(PerpetratorMove.status == status)
        if referral_id is not None:
            stmt = stmt.where(PerpetratorMove.referral_id == referral_id)
        order = (PerpetratorMove.held_at.desc(), PerpetratorMove.id)
        return await paginate(self.session, stmt.order_by(*order), limit, offset)

    async def get(self, move_id: uuid.UUID) -> PerpetratorMove:
        found = await self.session.scalar(
            self.visible(select(PerpetratorMove)).where(PerpetratorMove.id == move_id)
        )
        if found is None:
            raise NotFound(self.record_type, move_id)
        return found

    async def hold(
        self, referral_id: uuid.UUID, option_id: uuid.UUID, *, now: datetime | None = None
    ) -> PerpetratorMove:
        """Hold the option for the referral's perpetrator (`now`, here and below, is for
        recording history with `placement seed --history`; the API never sets it)."""
        if not self.principal.is_officer:
            raise Forbidden("only housing officers and integrations book perpetrator moves")
        now = now or datetime.now(UTC)
        try:
            referral = await self.matcher.referrals.get(referral_id)
        except NotFound:
            raise InvalidInput(
                "referral_id", f"no referral {referral_id} in your authority"
            ) from None
        if referral.status is not ReferralStatus.OPEN:
            raise Conflict(f"referral {referral_id} is {referral.status}, not open")
        # The household is read (and its read committed by the read audit) before this
        # transaction writes anything, as for an offer.
        household = await self.matcher.referrals.household(referral, purpose="perpetrator_check")
        broken = await self.matcher.move_rules_broken(referral, household, option_id, now.date())
        if broken is None:
            option = await self.session.get(RehousingOption, option_id)
            if option is None or option.retired_at is not None:
                raise InvalidInput("option_id", f"no rehousing option {option_id}")
            raise Conflict(
                f"rehousing option {option_id} is {option.status}, not available: it cannot "
                "be held",
                option_status=str(option.status),
            )
        if broken:
            raise InvalidInput(
                "option_id",
                "this option cannot be held for this household's perpetrator: "
                + explain_exclusion(broken),
            )
        live = await self.session.scalar(
            select(PerpetratorMove.id).where(
                PerpetratorMove.referral_id == referral_id, PerpetratorMove.status.in_(LIVE)
            )
        )
        if live is not None:
            raise Conflict(
                f"referral {referral_id} already has a perpetrator move on record ({live}): "
                "withdraw or end it first"
            )
        if not await transition_option(
            self.session, option_id, RehousingStatus.AVAILABLE, RehousingStatus.OCCUPIED
        ):
            raise Conflict(f"rehousing option {option_id} was taken just now: it is not available")
        move = PerpetratorMove(
            referral_id=referral_id,
            option_id=option_id,
            status=PerpetratorMoveStatus.HELD,
            held_at=now,
            made_by_key_id=self.principal.key_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(move)
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "create",
            self.record_type,
            move.id,
            option_id=str(option_id),
            referral_id=str(referral_id),
        )
        return move

    async def accept(self, move_id: uuid.UUID, *, now: datetime | None = None) -> PerpetratorMove:
        """The perpetrator has moved in: the referral ends as `perpetrator_moved`."""
        if not self.principal.is_officer:
            raise Forbidden("only the referring authority's officers record a perpetrator move")
        now = now or datetime.now(UTC)
        move = await self.get(move_id)
        # The household first, in the lock order of closing a referral and accepting an
        # offer: it is resolved once, whichever way.
        resolved = await self.session.execute(
            update(Referral)
            .where(Referral.id == move.referral_id, Referral.status == ReferralStatus.OPEN)
            .values(
                status=ReferralStatus.CLOSED,
                outcome=ReferralOutcome.PERPETRATOR_MOVED,
                outcome_at=now,
                closed_at=now,
                closed_reason="the perpetrator was rehoused",
                updated_at=now,
            )
        )
        move = await self._move(
            move, PerpetratorMoveStatus.HELD, PerpetratorMoveStatus.ACCEPTED, accepted_at=now
        )
        if not resolved.rowcount:  # type: ignore[attr-defined]
            status = await self.session.scalar(
                select(Referral.status).where(Referral.id == move.referral_id)
            )
            raise Conflict(
                f"the household of this move is {status}, no longer waiting: the move cannot "
                "be recorded",
                referral_status=str(status),
            )
        await withdraw_live_offers(
            self.session,
            self.principal,
            move.referral_id,
            f"the perpetrator was rehoused through move {move.id}",
            now=now,
        )
        return move

    async def withdraw(self, move_id: uuid.UUID, *, now: datetime | None = None) -> PerpetratorMove:
        """Let a held option go (the perpetrator did not move): it is free again."""
        if not self.principal.is_officer:
            raise Forbidden("only the referring authority's officers withdraw a perpetrator move")
        now = now or datetime.now(UTC)
        move = await self._move(
            await self.get(move_id),
            PerpetratorMoveStatus.HELD,
            PerpetratorMoveStatus.WITHDRAWN,
            withdrawn_at=now,
        )
        await transition_option(
            self.session, move.option_id, RehousingStatus.OCCUPIED, RehousingStatus.AVAILABLE
        )
        return move

    async def end(self, move_id: uuid.UUID, *, now: datetime | None = None) -> PerpetratorMove:
        """The perpetrator has left the option: it is free again."""
        now = now or datetime.now(UTC)
        move = await self.get(move_id)
        if now < move.held_at:
            raise InvalidInput("ended_at", "a move cannot end before it was booked")
        move = await self._move(
            move, PerpetratorMoveStatus.ACCEPTED, PerpetratorMoveStatus.ENDED, ended_at=now
        )
        await transition_option(
            self.session, move.option_id, RehousingStatus.OCCUPIED, RehousingStatus.AVAILABLE
        )
        return move

    async def _move(
        self,
        move: PerpetratorMove,
        from_status: PerpetratorMoveStatus,
        to_status: PerpetratorMoveStatus,
        **values: datetime,
    ) -> PerpetratorMove:
        """Move `move` from `from_status` to `to_status` by a conditional UPDATE (409 if
        it is no longer there), audited."""
        if move.status is not from_status:
            raise Conflict(
                f"perpetrator move {move.id} is {move.status}; only a {from_status} move can "
                f"be {to_status}",
                move_status=str(move.status),
            )
        stamp = next(iter(values.values()))
        result = await self.session.execute(
            update(PerpetratorMove)
            .where(PerpetratorMove.id == move.id, PerpetratorMove.status == from_status)
            .values(status=to_status, updated_at=stamp, **values)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise Conflict(f"perpetrator move {move.id} was changed by someone else just now")
        audit.record(self.session, self.principal, str(to_status), self.record_type, move.id)
        await self.session.refresh(move)
        return move
