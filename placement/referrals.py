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
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy import ColumnElement, Row, Select, bindparam, select

from placement import audit
from placement.characteristics import record_characteristics
from placement.enums import (
    OFFICER_ROLES,
    AllocationScope,
    ReferralOutcome,
    ReferralStatus,
    RiskLevel,
    UnableReason,
)
from placement.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.fields import sent_fields
from placement.holds import withdraw_live_offers, withdraw_live_perpetrator_moves
from placement.households import (
    Household,
    HouseholdChanges,
    changed,
    seal,
    unseal,
)
from placement.matching.convert import ReferralFacts
from placement.matching.snapshots import MATCH
from placement.models import Authority, DecisionSnapshot, Referral
from placement.paging import Page, paginate
from placement.security import Principal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from placement.runtime import Runtime

Reference = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9/_-]{2,63}$",
        description="pseudonymous case reference: no names",
    ),
]
PerpetratorRef = Annotated[str, Meta(pattern=r"^[A-Za-z0-9/_-]{1,64}$")]


class ReferralCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A household referred for safe accommodation, under a pseudonymous reference only."""

    reference: Reference
    risk_level: RiskLevel
    marac: bool = False
    referred_on: date | None = None
    perpetrator_ref: PerpetratorRef | None = None
    household: Household


class ReferralUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Change the case fields, and/or replace whole top-level parts of the household."""

    risk_level: RiskLevel | UnsetType = UNSET
    marac: bool | UnsetType = UNSET
    perpetrator_ref: PerpetratorRef | UnsetType | None = UNSET
    household: HouseholdChanges | UnsetType = UNSET


class ReferralClose(msgspec.Struct, forbid_unknown_fields=True):
    """Close a referral, saying why. An open referral closes as unable to be supported,
    with `unable_reason` from the fixed list (for `needs_not_met` the matcher's reasons
    are taken from its latest match); a placed referral keeps its outcome, `placed`."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]
    unable_reason: UnableReason | None = None


def one_visible(*also: ColumnElement[Any]) -> Select[Any]:
    """One referral (and any `also` columns), under `visible`'s row filter.

    Bind `referral_id` and `authority_code`. Build these once and reuse them:
    SQLAlchemy memoises a statement's cache key on the object, and the referral read
    is on every match request.
    """
    return visible_row(Referral, *also)


def visible_row(*columns: Any) -> Select[Any]:
    """`columns` of one referral's row, under `visible`'s row filter (bind as for
    `one_visible`): a read that needs a few of its columns, not the record."""
    return select(*columns).where(
        Referral.id == bindparam("referral_id"),
        Referral.authority_code == bindparam("authority_code"),
    )


_ONE = one_visible()
_ONE_FOR_UPDATE = _ONE.with_for_update()


class ReferralService:
    record_type = "referral"

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.cipher = runtime.cipher
        self.reads = runtime.reads
        self.unsealed = runtime.households
        self.inline = runtime.inline

    def require_officer(self) -> None:
        if self.principal.role not in OFFICER_ROLES:
            raise Forbidden("only housing officers and integrations work with referrals")

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """Officers see their own authority's referrals; nobody else sees any."""
        self.require_officer()
        return stmt.where(Referral.authority_code == self.principal.authority_code)

    async def list(
        self,
        *,
        status: str | None,
        risk_level: str | None,
        limit: int,
        offset: int,
        reference: str | None = None,
    ) -> Page[Referral]:
        """The caller's referrals; `reference` finds a case by the officer's own reference."""
        stmt = self.visible(select(Referral))
        if reference is not None:
            stmt = stmt.where(Referral.reference == reference)
        if status:
            stmt = stmt.where(Referral.status == status)
        if risk_level:
            stmt = stmt.where(Referral.risk_level == risk_level)
        page = await paginate(
            self.session, stmt.order_by(Referral.referred_on.desc(), Referral.id), limit, offset
        )
        await self.reads.record(
            self.principal, "list", self.record_type, None, count=len(page.items)
        )
        return page

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
        """The row of a `one_visible(...)` (or `visible_row(...)`) statement for this
        referral, read in the session; 404 if not yours."""
        self.require_officer()
        row = (await self.session.execute(statement, self._row_parameters(referral_id))).first()
        return self._found(row, referral_id)

    async def read_row(self, statement: Select[Any], referral_id: uuid.UUID) -> Row[Any]:
        """As `get_row`, read outside the session and any transaction, inline where the
        database allows (`InlineReads`): for a read-only request's one query."""
        self.require_officer()
        row = await self.inline.first(self.session, statement, self._row_parameters(referral_id))
        return self._found(row, referral_id)

    def _row_parameters(self, referral_id: uuid.UUID) -> dict[str, Any]:
        return {"referral_id": referral_id, "authority_code": self.principal.authority_code}

    def _found(self, row: Row[Any] | None, referral_id: uuid.UUID) -> Row[Any]:
        if row is None:
            raise NotFound(self.record_type, referral_id)
        return row

    async def household(self, referral: ReferralFacts, purpose: str = "read") -> Household:
        """Decrypt the household (or take it from the worker's recent ones, `Unsealed`);
        every call is an audited read, on record first."""
        await self.reads.record(self.principal, purpose, self.record_type, referral.id)
        return self.unsealed.unseal(self.cipher, referral.details_ciphertext)

    async def households(self, referrals: Sequence[Referral], purpose: str) -> Sequence[Household]:
        """Decrypt many households; their audit events go in one batch."""
        await asyncio.gather(
            *(self.reads.record(self.principal, purpose, self.record_type, r.id) for r in referrals)
        )
        return [self.unsealed.unseal(self.cipher, r.details_ciphertext) for r in referrals]

    async def create(self, data: ReferralCreate, *, now: datetime | None = None) -> Referral:
        """Register a referral with its household's characteristics (`now`: for
        recording history, `placement seed --history`; the API never sets it)."""
        self.require_officer()
        now = now or datetime.now(UTC)
        await self._check_household(data.household)
        taken = await self.session.scalar(
            self.visible(select(Referral.id)).where(Referral.reference == data.reference)
        )
        if taken is not None:
            raise Conflict(
                f"your authority already has a referral with reference {data.reference}",
                field="reference",
            )
        referral = Referral(
            reference=data.reference,
            risk_level=data.risk_level,
            marac=data.marac,
            referred_on=data.referred_on or now.date(),
            perpetrator_ref=data.perpetrator_ref,
            authority_code=self.principal.authority_code,
            status=ReferralStatus.OPEN,
            details_ciphertext=seal(self.cipher, data.household),
            created_by_key_id=self.principal.key_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(referral)
        await self.session.flush()
        await record_characteristics(self.session, referral.id, data.household, new=True)
        audit.record(self.session, self.principal, "create", self.record_type, referral.id)
        return referral

    async def update(
        self, referral_id: uuid.UUID, data: ReferralUpdate
    ) -> tuple[Referral, Household]:
        """Change an open referral; returns it with its household as it now is."""
        referral = await self.get(referral_id, for_update=True)
        if referral.status is not ReferralStatus.OPEN:
            raise Conflict(f"referral {referral_id} is {referral.status}; it cannot change")
        household = unseal(self.cipher, referral.details_ciphertext)
        fields = sent_fields(data)
        changes = fields.pop("household", None)
        parts = sorted(sent_fields(changes)) if isinstance(changes, HouseholdChanges) else []
        if isinstance(changes, HouseholdChanges) and parts:
            household = changed(household, changes)
            await self._check_household(household)
            referral.details_ciphertext = seal(self.cipher, household)
            await record_characteristics(self.session, referral.id, household)
        for name, value in fields.items():
            setattr(referral, name, value)
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "update",
            self.record_type,
            referral.id,
            fields=sorted([*fields, *parts]),
        )
        return referral, household

    async def close(
        self,
        referral_id: uuid.UUID,
        reason: str,
        unable_reason: UnableReason | None = None,
        *,
        now: datetime | None = None,
    ) -> Referral:
        """End a referral with its outcome (`now`: for recording history only).

        An open referral is one the service could not support: `unable_reason` says why
        (422 naming it when missing). A placed one keeps `placed` and takes none.
        """
        referral = await self.get(referral_id, for_update=True)
        if referral.status is ReferralStatus.CLOSED:
            raise Conflict(f"referral {referral_id} is already closed")
        now = now or datetime.now(UTC)
        if referral.status is ReferralStatus.PLACED:
            if unable_reason is not None:
                raise InvalidInput(
                    "unable_reason",
                    "this household was placed: its outcome is on record, and it takes no "
                    "reason it could not be supported",
                )
        else:
            if unable_reason is None:
                raise InvalidInput(
                    "unable_reason",
                    "an open referral closes as unable to be supported: say why, from the "
                    "fixed list (" + ", ".join(UnableReason) + ")",
                )
            codes = (
                await unmet_reason_codes(self.session, referral)
                if unable_reason is UnableReason.NEEDS_NOT_MET
                else None
            )
            referral.outcome = ReferralOutcome.UNABLE_TO_SUPPORT
            referral.outcome_at = now
            referral.unable_reason = unable_reason
            referral.unmet_reason_codes = codes
        referral.status = ReferralStatus.CLOSED
        referral.closed_at = now
        referral.closed_reason = reason
        referral.updated_at = now
        await self.session.flush()
        audit.record(
            self.session,
            self.principal,
            "close",
            self.record_type,
            referral.id,
            outcome=str(referral.outcome) if referral.outcome else None,
            unable_reason=str(unable_reason) if unable_reason else None,
        )
        # Units and rehousing options held for a closed case go back to everyone.
        await withdraw_live_offers(
            self.session, self.principal, referral.id, "referral closed", now=now
        )
        await withdraw_live_perpetrator_moves(
            self.session, self.principal, referral.id, "referral closed", now=now
        )
        return referral

    async def _check_household(self, household: Household) -> None:
        """What the schema cannot know: the authorities named are real ones."""
        codes = household.avoid_authorities
        if codes:
            known = set(
                await self.session.scalars(select(Authority.code).where(Authority.code.in_(codes)))
            )
            for index, code in enumerate(codes):
                if code not in known:
                    raise InvalidInput(
                        f"avoid_authorities[{index}]", f"no authority with code {code}"
                    )


async def unmet_reason_codes(session: AsyncSession, referral: Referral) -> list[str]:
    """The reason codes that ruled every unit out, from the referral's latest match.

    "Needs could not be met" is a claim about the register, so it must rest on the
    matcher's own record (`decision_snapshots`): 422 if there is no match on record,
    or if the latest one found units that meet every rule.
    """
    latest = await session.scalar(
        select(DecisionSnapshot)
        .where(DecisionSnapshot.kind == MATCH, DecisionSnapshot.referral_id == referral.id)
        .order_by(DecisionSnapshot.at.desc(), DecisionSnapshot.id.desc())
        .limit(1)
    )
    if latest is None:
        raise InvalidInput(
            "unable_reason",
            "needs_not_met rests on the matcher's reasons, and this referral has not "
            "been matched: ask for its matches first",
        )
    feasible = int(latest.result.get("feasible", 0))
    if feasible:
        raise InvalidInput(
            "unable_reason",
            f"the latest match ({latest.at:%d %B %Y}) found {feasible} units that meet "
            "every rule for this household: choose another reason, or match again",
        )
    excluded: dict[str, int] = latest.result.get("excluded", {})
    return sorted(code for code, count in excluded.items() if count > 0)
