"""Perpetrator links: two authorities agree that their references name one perpetrator.

A perpetrator reference is its authority's own, so households are kept apart across
authorities only when the two link their references explicitly: an officer of one
authority proposes (its own reference, and the other authority's code and reference as
that authority's officers gave it), and an officer of the other authority confirms; an
admin may record a link outright. Only a confirmed link counts (`matching.keep_apart`).

Linking reveals nothing of the other authority's cases: a proposal is taken whether or
not the other authority has any referral under that reference (saying otherwise would let
one authority probe another's case list), and a link carries references, never a
referral. Officers see the links that touch their authority; admins, all of them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, or_, select

from placement import audit
from placement.enums import LinkStatus
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.models import Authority, PerpetratorLink
from placement.paging import Page, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime
    from placement.security import Principal


class PerpetratorLinkService:
    record_type = "perpetrator_link"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal

    # -- scope -------------------------------------------------------------------------
    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """Officers see links with their authority on either side; admins see all."""
        if self.principal.is_admin:
            return stmt
        if not self.principal.is_officer:
            raise Forbidden("only housing officers, integrations and admins work with links")
        mine = self.principal.authority_code
        return stmt.where(
            or_(
                PerpetratorLink.authority_code == mine,
                PerpetratorLink.partner_authority_code == mine,
            )
        )

    async def list(self, *, status: str | None, limit: int, offset: int) -> Page[PerpetratorLink]:
        stmt = self.visible(select(PerpetratorLink))
        if status:
            stmt = stmt.where(PerpetratorLink.status == status)
        order = (PerpetratorLink.created_at.desc(), PerpetratorLink.id)
        return await paginate(self.session, stmt.order_by(*order), limit, offset)

    async def get(self, link_id: uuid.UUID) -> PerpetratorLink:
        link = await self.session.scalar(
            self.visible(select(PerpetratorLink)).where(PerpetratorLink.id == link_id)
        )
        if link is None:
            raise NotFound(self.record_type, link_id)
        return link

    # -- changes -----------------------------------------------------------------------
    async def propose(
        self,
        authority_code: str | None,
        perpetrator_ref: str,
        partner_authority_code: str,
        partner_perpetrator_ref: str,
    ) -> PerpetratorLink:
        """An officer's proposal for its own authority, or an admin's confirmed record."""
        own = await self._proposing_authority(authority_code)
        await self._require_authority(partner_authority_code, "partner_authority_code")
        if partner_authority_code == own:
            raise InvalidInput(
                "partner_authority_code",
                "must be another authority: within one authority the same reference "
                "already links the cases",
            )
        await self._refuse_duplicate(
            (own, perpetrator_ref), (partner_authority_code, partner_perpetrator_ref)
        )
        now = datetime.now(UTC)
        admin = self.principal.is_admin
        link = PerpetratorLink(
            authority_code=own,
            perpetrator_ref=perpetrator_ref,
            partner_authority_code=partner_authority_code,
            partner_perpetrator_ref=partner_perpetrator_ref,
            status=LinkStatus.CONFIRMED if admin else LinkStatus.PROPOSED,
            proposed_by_key_id=self.principal.key_id,
            confirmed_at=now if admin else None,
            confirmed_by_key_id=self.principal.key_id if admin else None,
        )
        self.session.add(link)
        # Of two racing proposals the unique index lets one through; the other is a 409.
        await self.session.flush()
        self._audit("record" if admin else "propose", link)
        return link

    async def confirm(self, link_id: uuid.UUID) -> PerpetratorLink:
        """The partner authority (or an admin) agrees: from now on the link counts."""
        link = await self._for_write(link_id)
        if not self.principal.is_admin and self.principal.authority_code != (
            link.partner_authority_code
        ):
            raise Forbidden("only the other authority (or an admin) confirms a link it was sent")
        if link.status is not LinkStatus.PROPOSED:
            raise Conflict(f"the link is {link.status}, not proposed")
        link.status = LinkStatus.CONFIRMED
        link.confirmed_at = datetime.now(UTC)
        link.confirmed_by_key_id = self.principal.key_id
        await self.session.flush()
        self._audit("confirm", link)
        return link

    async def withdraw(self, link_id: uuid.UUID) -> PerpetratorLink:
        """Either authority (or an admin) withdraws a link; withdrawing again changes
        nothing. Offers and placements already made stand."""
        link = await self._for_write(link_id)
        if link.status is not LinkStatus.WITHDRAWN:
            link.status = LinkStatus.WITHDRAWN
            link.withdrawn_at = datetime.now(UTC)
            link.withdrawn_by_key_id = self.principal.key_id
            await self.session.flush()
            self._audit("withdraw", link)
        return link

    # -- helpers -----------------------------------------------------------------------
    async def _proposing_authority(self, authority_code: str | None) -> str:
        if self.principal.is_admin:
            if authority_code is None:
                raise InvalidInput("authority_code", "an admin names both authorities")
            await self._require_authority(authority_code, "authority_code")
            return authority_code
        if not self.principal.is_officer:
            raise Forbidden("only housing officers, integrations and admins link references")
        own = self.principal.authority_code
        assert own is not None
        if authority_code is not None and authority_code != own:
            raise InvalidInput("authority_code", f"must be your own authority, {own}, or omitted")
        return own

    async def _require_authority(self, code: str, field: str) -> None:
        authority = await self.session.get(Authority, code)
        if authority is None or authority.retired_at is not None:
            raise InvalidInput(field, f"no current authority with code {code}")

    async def _refuse_duplicate(self, one: tuple[str, str], other: tuple[str, str]) -> None:
        """One live link per pair of references, whichever side proposed it."""

        def between(a: tuple[str, str], b: tuple[str, str]) -> Any:
            return and_(
                PerpetratorLink.authority_code == a[0],
                PerpetratorLink.perpetrator_ref == a[1],
                PerpetratorLink.partner_authority_code == b[0],
                PerpetratorLink.partner_perpetrator_ref == b[1],
            )

        existing = await self.session.scalar(
            select(PerpetratorLink.id).where(
                PerpetratorLink.status != LinkStatus.WITHDRAWN,
                or_(between(one, other), between(other, one)),
            )
        )
        if existing is not None:
            raise Conflict(f"these two references are already linked (link {existing})")

    async def _for_write(self, link_id: uuid.UUID) -> PerpetratorLink:
        link = await self.session.scalar(
            self.visible(select(PerpetratorLink))
            .where(PerpetratorLink.id == link_id)
            .with_for_update()
        )
        if link is None:
            raise NotFound(self.record_type, link_id)
        return link

    def _audit(self, action: str, link: PerpetratorLink) -> None:
        audit.record(
            self.session,
            self.principal,
            action,
            self.record_type,
            link.id,
            authority_code=link.authority_code,
            partner_authority_code=link.partner_authority_code,
            status=str(link.status),
        )
