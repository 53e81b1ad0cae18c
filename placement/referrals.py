"""Referrals: households referred for safe accommodation, by pseudonymous reference only.

Only housing officers and integrations of the referring authority see a referral (the
row filter is in every query). The household document (members, needs, and every
location tied to the household) is encrypted at rest and each read of it is audited.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.audit import ReadAudit
from placement.crypto import Cipher
from placement.enums import AllocationScope, ReferralStatus, Role
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.models import Authority, Referral
from placement.offers import withdraw_live_offers
from placement.registry.base import Page
from placement.security import Principal

OFFICERS = frozenset({Role.HOUSING_OFFICER, Role.INTEGRATION})


def one_visible(*also: ColumnElement[Any]) -> Select[Any]:
    """One referral (and any `also` columns), under `visible`'s row filter.

    Bind `referral_id` and `authority_code`. Build these once and reuse them:
    SQLAlchemy memoises a statement's cache key on the object, and the referral read
    is on every match request.
    """
    return select(Referral, *also).where(
        Referral.id == bindparam("referral_id"),
        Referral.authority_code == bindparam("authority_code"),
    )


_ONE = one_visible()
_ONE_FOR_UPDATE = _ONE.with_for_update()


class ReferralService:
    record_type = "referral"

    def __init__(
        self, session: AsyncSession, principal: Principal, cipher: Cipher, reads: ReadAudit
    ) -> None:
        self.session = session
        self.principal = principal
        self.cipher = cipher
        self.reads = reads

    def require_officer(self) -> None:
        if self.principal.role not in OFFICERS:
            raise Forbidden("only housing officers and integrations work with referrals")

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """Officers see their own authority's referrals; nobody else sees any."""
        self.require_officer()
        return stmt.where(Referral.authority_code == self.principal.authority_code)

    async def list(
        self, *, status: str | None, risk_level: str | None, limit: int, offset: int
    ) -> Page[Referral]:
        stmt = self.visible(select(Referral))
        if status:
            stmt = stmt.where(Referral.status == status)
        if risk_level:
            stmt = stmt.where(Referral.risk_level == risk_level)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(
            stmt.order_by(Referral.referred_on.desc(), Referral.id).limit(limit).offset(offset)
        )
        items = list(rows)
        await self.reads.record(self.principal, "list", self.record_type, None, count=len(items))
        return Page(items=items, total=int(total or 0), limit=limit, offset=offset)

    async def open_in_area(self, scope: AllocationScope) -> Sequence[Referral]:
        """Open referrals of every authority in the caller's group or region.

        The one place the row filter widens, for joint allocation runs (a regional
        panel): the households are decrypted only inside the service, for the matcher,
        and of other authorities' cases only counts per authority leave it.
        """
        self.require_officer()
        mine = await self.session.get(Authority, self.principal.authority_code)
        assert mine is not None  # a key's authority is a foreign key
        if scope is AllocationScope.GROUP:
            if mine.group_name is None:
                raise InvalidInput("scope", f"{mine.name} is not in a group of authorities")
            partners = select(Authority.code).where(Authority.group_name == mine.group_name)
        else:
            partners = select(Authority.code).where(Authority.region == mine.region)
        rows = await self.session.scalars(
            select(Referral)
            .where(Referral.status == ReferralStatus.OPEN, Referral.authority_code.in_(partners))
            .order_by(Referral.id)
        )
        return rows.all()

    async def get(self, referral_id: uuid.UUID, *, for_update: bool = False) -> Referral:
        row = await self.get_row(_ONE_FOR_UPDATE if for_update else _ONE, referral_id)
        referral: Referral = row[0]
        return referral

    async def get_row(self, statement: Select[Any], referral_id: uuid.UUID) -> Row[Any]:
        """The row of a `one_visible(...)` statement for this referral; 404 if not yours."""
        self.require_officer()
        row = (
            await self.session.execute(
                statement,
                {"referral_id": referral_id, "authority_code": self.principal.authority_code},
            )
        ).first()
        if row is None:
            raise NotFound(self.record_type, referral_id)
        return row

    async def household(self, referral: Referral, purpose: str = "read") -> dict[str, Any]:
        """Decrypt the household document; every call is an audited read, on record first."""
        await self.reads.record(self.principal, purpose, self.record_type, referral.id)
        return dict(self.cipher.decrypt_json(referral.details_ciphertext))

    async def households(
        self, referrals: Sequence[Referral], purpose: str
    ) -> Sequence[dict[str, Any]]:
        """Decrypt many household documents; their audit events go in one batch."""
        await asyncio.gather(
            *(self.reads.record(self.principal, purpose, self.record_type, r.id) for r in referrals)
        )
        return [dict(self.cipher.decrypt_json(r.details_ciphertext)) for r in referrals]

    async def create(self, fields: dict[str, Any], household: dict[str, Any]) -> Referral:
        self.require_officer()
        await self._check_household(household)
        taken = await self.session.scalar(
            self.visible(select(Referral.id)).where(Referral.reference == fields["reference"])
        )
        if taken is not None:
            raise Conflict(
                f"your authority already has a referral with reference {fields['reference']}",
                field="reference",
            )
        referral = Referral(
            **{**fields, "referred_on": fields.get("referred_on") or date.today()},
            authority_code=self.principal.authority_code,
            status=ReferralStatus.OPEN,
            details_ciphertext=self.cipher.encrypt_json(household),
            created_by_key_id=self.principal.key_id,
        )
        self.session.add(referral)
        await self.session.flush()
        audit.record(self.session, self.principal, "create", self.record_type, referral.id)
        return referral

    async def update(
        self, referral_id: uuid.UUID, fields: dict[str, Any], household: dict[str, Any]
    ) -> tuple[Referral, dict[str, Any]]:
        referral = await self.get(referral_id, for_update=True)
        if referral.status is not ReferralStatus.OPEN:
            raise Conflict(f"referral {referral_id} is {referral.status}; it cannot change")
        document = dict(self.cipher.decrypt_json(referral.details_ciphertext))
        if household:
            document |= household
            await self._check_household(document)
            referral.details_ciphertext = self.cipher.encrypt_json(document)
        for name, value in fields.items():
            setattr(referral, name, value)
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "update",
            self.record_type,
            referral.id,
            fields=sorted([*fields, *household]),
        )
        return referral, document

    async def close(self, referral_id: uuid.UUID, reason: str) -> Referral:
        referral = await self.get(referral_id, for_update=True)
        if referral.status is ReferralStatus.CLOSED:
            raise Conflict(f"referral {referral_id} is already closed")
        referral.status = ReferralStatus.CLOSED
        referral.closed_at = datetime.now(UTC)
        referral.closed_reason = reason
        await self.session.flush()
        audit.record(self.session, self.principal, "close", self.record_type, referral.id)
        # Units held for a closed case go back to everyone.
        await withdraw_live_offers(self.session, self.principal, referral.id, "referral closed")
        return referral

    async def _check_household(self, household: dict[str, Any]) -> None:
        codes = household.get("avoid_authorities", [])
        if codes:
            known = set(
                await self.session.scalars(select(Authority.code).where(Authority.code.in_(codes)))
            )
            for index, code in enumerate(codes):
                if code not in known:
                    raise InvalidInput(
                        f"avoid_authorities[{index}]", f"no authority with code {code}"
                    )
