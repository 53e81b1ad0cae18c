"""The queries that feed the matcher: units with their schemes, protocols in force with
their balances, rehousing options, and households linked through a perpetrator (the same
reference in one authority, or references that authorities linked: `keep_apart`).

Statements on the match path are built once, at import: SQLAlchemy memoises a
statement's cache key on the object, and these run on every match request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import CompoundSelect, Select, and_, bindparam, func, or_, select, tuple_, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

import optimiser
from placement.enums import LinkStatus, OfferStatus, RehousingStatus
from placement.matching.convert import ReferralFacts, rehousing_option
from placement.matching.keep_apart import load_links
from placement.models import (
    Offer,
    PerpetratorLink,
    Placement,
    Protocol,
    Provider,
    Referral,
    RegistryChange,
    RehousingOption,
    Scheme,
    Unit,
)
from placement.referrals import one_visible, visible_row

# Two scalar subqueries, not max() and min() in one SELECT: SQLite answers each alone from
# the primary key, but scans the whole feed for the pair.
FEED_BOUNDS = (
    select(func.max(RegistryChange.seq)).scalar_subquery(),
    select(func.min(RegistryChange.seq)).scalar_subquery(),
)
"""The newest and oldest entries of the change feed, as columns to read with other things."""
FEED_BOUNDS_ONLY = select(*FEED_BOUNDS)

_OTHER = aliased(Referral)
SAME_AUTHORITY = func.coalesce(_OTHER.authority_code, "") == Referral.authority_code
"""The other referral is of the same authority, said so that no index can answer it: the
perpetrator's reference (indexed, nearly unique) must find the rows. Compared as a plain
column, SQLite (which has no statistics unless ANALYZE is run) looked the other referrals
up by authority instead, reading every referral of the authority on every match: 200 us
of a match's 230 us query at the national fixture's busiest authority, against 6 us.
(`authority_code` is never null: the coalesce changes no answer.)"""
HAS_LINKED = or_(
    select(_OTHER.id)
    .where(
        _OTHER.perpetrator_ref == Referral.perpetrator_ref,
        SAME_AUTHORITY,
        _OTHER.id != Referral.id,
    )
    .exists(),
    select(PerpetratorLink.id)
    .where(
        PerpetratorLink.status == LinkStatus.CONFIRMED,
        or_(
            and_(
                PerpetratorLink.authority_code == Referral.authority_code,
                PerpetratorLink.perpetrator_ref == Referral.perpetrator_ref,
            ),
            and_(
                PerpetratorLink.partner_authority_code == Referral.authority_code,
                PerpetratorLink.partner_perpetrator_ref == Referral.perpetrator_ref,
            ),
        ),
    )
    .exists(),
)
"""Whether another referral of the same authority names the same perpetrator, or a
confirmed link joins its reference to another authority's: a column to read with a
referral, so that `linked_schemes` is asked only when it can find something (rarely)."""

CASE_READ = one_visible(*FEED_BOUNDS, HAS_LINKED)
"""The referral, the change feed's bounds, and whether the household is linked to another
through its perpetrator: one round trip for what every offer check needs first."""
MATCH_READ = visible_row(
    Referral.id,
    Referral.authority_code,
    Referral.risk_level,
    Referral.perpetrator_ref,
    Referral.referred_on,
    Referral.details_ciphertext,
    FEED_BOUNDS[0].label("feed_latest"),
    FEED_BOUNDS[1].label("feed_oldest"),
    HAS_LINKED.label("has_linked"),
)
"""As `CASE_READ`, for a match request: only the columns matching reads of the referral
(`convert.ReferralFacts`), as a plain row, where building the ORM record and tracking it
in a session cost more than the query."""


def unit_rows() -> Select[tuple[Unit, Scheme, list[str]]]:
    """Units with their scheme and their provider's specialisms (the score reads them)."""
    return (
        select(Unit, Scheme, Provider.specialisms)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .join(Provider, Provider.id == Scheme.provider_id)
    )


@dataclass(frozen=True, slots=True)
class ProtocolTerms:
    """What a protocol in force says, without its balances (those change with every
    placement; these only with the protocol or the day)."""

    id: str
    members: frozenset[str]
    balance_cap: int | None
    balance_period_days: int


async def load_protocols(
    session: AsyncSession, today: date | None = None
) -> tuple[optimiser.Protocol, ...]:
    """Protocols in force today, with each member's net sent-minus-received in its period."""
    terms = await protocols_in_force(session, today or date.today())
    return await with_balances(session, terms)


async def protocols_in_force(session: AsyncSession, today: date) -> tuple[ProtocolTerms, ...]:
    """The terms of every protocol in force on `today`, in a stable order."""
    protocols = await session.scalars(
        select(Protocol).where(
            Protocol.retired_at.is_(None),
            Protocol.starts_on <= today,
            (Protocol.ends_on.is_(None)) | (Protocol.ends_on >= today),
        )
    )
    return tuple(
        sorted(
            (
                ProtocolTerms(
                    id=str(p.id),
                    members=frozenset(m.authority_code for m in p.members),
                    balance_cap=p.balance_cap,
                    balance_period_days=p.balance_period_days,
                )
                for p in protocols
            ),
            key=lambda t: t.id,
        )
    )


async def with_balances(
    session: AsyncSession, terms: tuple[ProtocolTerms, ...]
) -> tuple[optimiser.Protocol, ...]:
    """The protocols with each member's net sent-minus-received in its period until now:
    one counting query a balance period, whatever the number of protocols."""
    if not terms:
        return ()
    now = datetime.now(UTC)
    flows = {
        days: await cross_border_counts(
            session,
            now - timedelta(days=days),
            frozenset().union(*(t.members for t in terms if t.balance_period_days == days)),
        )
        for days in sorted({t.balance_period_days for t in terms})
    }
    result = []
    for protocol in terms:
        balances: dict[str, int] = defaultdict(int)
        for sender, receiver, count in flows[protocol.balance_period_days]:
            if sender in protocol.members and receiver in protocol.members:
                balances[sender] += count
                balances[receiver] -= count
        result.append(
            optimiser.Protocol(
                id=protocol.id,
                members=protocol.members,
                balance_cap=protocol.balance_cap,
                balances=dict(balances),
            )
        )
    return tuple(result)


async def cross_border_counts(
    session: AsyncSession,
    since: datetime,
    members: frozenset[str],
    until: datetime | None = None,
) -> list[tuple[str, str, int]]:
    """Placements that moved in from `since` (until `until`, if given) from one of
    `members` into another, counted per (sender, receiver) in the database: the balances
    the matcher works from and a protocol's ledger. A protocol change or placement
    reloads the balances, so this runs after every booking, and at national scale the
    placements themselves are thousands of rows where the pairs are tens."""
    sender, receiver = Referral.authority_code, Scheme.authority_code
    stmt = (
        select(sender, receiver, func.count())
        .select_from(Placement)
        .join(Referral, Referral.id == Placement.referral_id)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(
            Placement.moved_in_at >= since,
            sender != receiver,
            sender.in_(members),
            receiver.in_(members),
        )
        .group_by(sender, receiver)
    )
    if until is not None:
        stmt = stmt.where(Placement.moved_in_at < until)
    rows = await session.execute(stmt)
    return [(str(s), str(r), int(n)) for s, r, n in rows]


async def load_rehousing(session: AsyncSession) -> tuple[optimiser.RehousingOption, ...]:
    """Perpetrator-rehousing options open to matching, in a stable order."""
    rows = await session.scalars(
        select(RehousingOption).where(
            RehousingOption.retired_at.is_(None),
            RehousingOption.status == RehousingStatus.AVAILABLE,
        )
    )
    return tuple(rehousing_option(row) for row in sorted(rows, key=lambda r: str(r.id)))


def _linked_schemes_statement() -> CompoundSelect:
    linked = select(Referral.id).where(
        tuple_(Referral.authority_code, Referral.perpetrator_ref).in_(
            bindparam("references", expanding=True)
        ),
        Referral.id != bindparam("referral_id"),
    )
    placed = (
        select(Unit.scheme_id)
        .join(Placement, Placement.unit_id == Unit.id)
        .where(Placement.referral_id.in_(linked), Placement.moved_out_at.is_(None))
    )
    offered = (
        select(Unit.scheme_id)
        .join(Offer, Offer.unit_id == Unit.id)
        .where(Offer.referral_id.in_(linked), Offer.status == OfferStatus.LIVE)
    )
    return union(placed, offered)


_LINKED_SCHEMES = _linked_schemes_statement()


async def linked_schemes(session: AsyncSession, referral: ReferralFacts) -> frozenset[str]:
    """Schemes already holding (or offered to) a household linked to the same perpetrator
    (the same reference within the referral's authority, or one linked to it)."""
    if not referral.perpetrator_ref:
        return frozenset()
    links = await load_links(session)
    references = links.same_perpetrator(referral.authority_code, referral.perpetrator_ref)
    rows = await session.scalars(
        _LINKED_SCHEMES,
        {"references": sorted(references), "referral_id": referral.id},
    )
    return frozenset(str(row) for row in rows)
