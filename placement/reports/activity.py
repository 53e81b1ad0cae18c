"""Counts of what happened in the period, each record in the one quarter it falls in.

Referrals, unmet need and offers belong to the referring authority (its households);
placements, their households and why support ended belong to the authority where the
accommodation is (the provision it commissions). One query a measure (one for the four
about the households that moved in), portable SQL, counted in the database: each groups
its records by quarter (`quarter_of`) and category codes and returns only the sums, which
`tables` puts in the quarters' tables; a national year is some hundred thousand records,
and loading them row by row cost seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement.enums import OfferStatus, PerpetratorMoveStatus, ReferralOutcome, UnableReason
from placement.models import (
    Offer,
    PerpetratorMove,
    Placement,
    Referral,
    ReferralCharacteristics,
    Scheme,
    Unit,
)
from placement.reports import categories as cat
from placement.reports.area import Area
from placement.reports.period import Period
from placement.reports.tables import CountTable, Key, Shape, count_table

Count = tuple[int, Key, int]
"""A sum counted in the database: (index of the quarter, category codes, weight)."""


def in_quarters(period: Period, counts: Iterable[Count]) -> list[list[tuple[Key, int]]]:
    """Sums counted per quarter in the database, sorted into the period's quarters."""
    quarters: list[list[tuple[Key, int]]] = [[] for _ in period.quarters]
    for quarter, key, weight in counts:
        quarters[quarter].append((key, weight))
    return quarters


def quarter_of(period: Period, column: Any, *, timed: bool = True) -> ColumnElement[int]:
    """The index of the period's quarter that `column` (a time, or a day if not `timed`)
    falls in, worked out by the database. Compared with the quarters' bounds in UTC, as
    `Period.quarter_of` places a record's UTC day; the query keeps to the period."""
    quarters = period.quarters
    bounds = [(column < q.until) if timed else (column <= q.end) for q in quarters]
    return case(*((bound, i) for i, bound in enumerate(bounds)), else_=len(quarters) - 1)


def flag(column: Any) -> ColumnElement[int]:
    """A yes/no column as 1 or 0, to be summed (PostgreSQL does not sum booleans)."""
    return case((column, 1), else_=0)


async def _rows(session: AsyncSession, stmt: Select[Any]) -> Sequence[Any]:
    return (await session.execute(stmt)).all()


async def _sums(session: AsyncSession, stmt: Select[Any], keys: int) -> Sequence[Any]:
    """`stmt`'s rows (a quarter, `keys` category columns, then numbers) summed in the
    database by quarter and categories: (quarter, *categories, rows, *sums of the numbers).
    Grouped over a subquery so PostgreSQL sees one quarter expression, not two copies
    with their own parameters."""
    rows = stmt.subquery()
    groups = list(rows.c)[: 1 + keys]
    sums = [func.sum(c) for c in list(rows.c)[1 + keys :]]
    return await _rows(session, select(*groups, func.count(), *sums).group_by(*groups))


def _placements(area: Area, period: Period, column: Any) -> Select[Any]:
    """Placements in the area's accommodation whose `column` (a time) is in the period."""
    return (
        select(Placement)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(
            Scheme.authority_code.in_(area.authorities),
            column >= period.since,
            column < period.until,
        )
    )


async def referrals_received(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = select(quarter_of(period, Referral.referred_on, timed=False), Referral.risk_level).where(
        Referral.authority_code.in_(area.authorities),
        Referral.referred_on >= period.start,
        Referral.referred_on <= period.end,
    )
    counts = ((q, (str(risk),), n) for q, risk, n in await _sums(session, stmt, 1))
    return count_table(
        "referrals_received",
        "Referrals received, by risk level",
        "households",
        Shape(("risk_level",), (cat.RISK_LEVELS,)),
        in_quarters(period, counts),
        note="Referrals the area's authorities made in the period.",
    )


Sums = list[tuple[int, str, int, dict[str, int]]]
"""Per quarter and accommodation type: households that moved in, and the sum of each
characteristic over them."""


async def supported(
    session: AsyncSession, area: Area, period: Period
) -> tuple[CountTable, CountTable, CountTable, CountTable]:
    """The households that began support, their individuals by group and by age, and
    their specialist characteristics: four tables from one pass over the placements (each
    table's own query cost as much as the four in one)."""
    traits = (*cat.GROUPS, *cat.AGE_BANDS, *cat.CHARACTERISTICS)
    columns = [getattr(ReferralCharacteristics, t) for t in traits]
    stmt = (
        _placements(area, period, Placement.moved_in_at)
        .outerjoin(
            ReferralCharacteristics, ReferralCharacteristics.referral_id == Placement.referral_id
        )
        .with_only_columns(
            quarter_of(period, Placement.moved_in_at),
            Scheme.scheme_type,
            *(flag(c) if isinstance(c.type, Boolean) else c for c in columns),
        )
    )
    # A household without characteristics (none recorded) counts, and adds to no sum.
    sums: Sums = [
        (q, str(kind), households, {t: s or 0 for t, s in zip(traits, totals, strict=True)})
        for q, kind, households, *totals in await _sums(session, stmt, 1)
    ]
    return (
        _households_supported(period, sums),
        _individuals_supported(period, sums),
        _age_bands(period, sums),
        _characteristics(period, sums),
    )


def _households_supported(period: Period, sums: Sums) -> CountTable:
    counts = ((q, (kind,), n) for q, kind, n, _ in sums)
    return count_table(
        "households_supported",
        "Households that began support, by accommodation type",
        "households",
        Shape(("accommodation_type",), (cat.ACCOMMODATION_TYPES,)),
        in_quarters(period, counts),
        note="Households that moved into the area's safe accommodation in the period.",
    )


def _individuals_supported(period: Period, sums: Sums) -> CountTable:
    counts = ((q, (kind, group), s[group]) for q, kind, _, s in sums for group in cat.GROUPS)
    return count_table(
        "individuals_supported",
        "Individuals who began support, by accommodation type and group",
        "individuals",
        Shape(("accommodation_type", "group"), (cat.ACCOMMODATION_TYPES, cat.GROUPS)),
        in_quarters(period, counts),
        note="Everyone in the households that moved in: adults by gender, and children.",
    )


def _age_bands(period: Period, sums: Sums) -> CountTable:
    counts = ((q, (band,), s[band]) for q, _, _, s in sums for band in cat.AGE_BANDS)
    return count_table(
        "individuals_by_age",
        "Individuals who began support, by age",
        "individuals",
        Shape(("age_band",), (cat.AGE_BANDS,)),
        in_quarters(period, counts),
    )


def _characteristics(period: Period, sums: Sums) -> CountTable:
    counts = ((q, (trait,), s[trait]) for q, _, _, s in sums for trait in cat.CHARACTERISTICS)
    return count_table(
        "specialist_characteristics",
        "Households who began support with each specialist characteristic",
        "households",
        Shape(("characteristic",), (cat.CHARACTERISTICS,), margins=False),
        in_quarters(period, counts),
        note="A household may have several, so there is no total; disabled counts members.",
    )


def _unable(area: Area, period: Period) -> list[ColumnElement[bool]]:
    """Referrals of the area closed in the period without support."""
    return [
        Referral.authority_code.in_(area.authorities),
        Referral.outcome == ReferralOutcome.UNABLE_TO_SUPPORT,
        Referral.outcome_at >= period.since,
        Referral.outcome_at < period.until,
    ]


async def unable_to_support(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = select(quarter_of(period, Referral.outcome_at), Referral.unable_reason).where(
        *_unable(area, period)
    )
    counts = ((q, (str(reason),), n) for q, reason, n in await _sums(session, stmt, 1))
    return count_table(
        "unable_to_support",
        "Households unable to be supported, by reason",
        "households",
        Shape(("reason",), (cat.UNABLE_REASONS,)),
        in_quarters(period, counts),
        note="Referrals of the area closed in the period without support.",
    )


async def needs_not_met(session: AsyncSession, area: Area, period: Period) -> CountTable:
    """Counted by the list of rules, as the database groups the referrals closed because
    needs were not met (a list's rules are not portably unnested in SQL, but households
    share few lists: a national year's ten thousand have some hundreds, each read once);
    a household counts once under each rule of its list."""
    stmt = select(quarter_of(period, Referral.outcome_at), Referral.unmet_reason_codes).where(
        *_unable(area, period), Referral.unable_reason == UnableReason.NEEDS_NOT_MET
    )
    codes = tuple(r.value for r in optimiser.Reason)
    counts = (
        (q, (str(code),), n)
        for q, reason_codes, n in await _sums(session, stmt, 1)
        for code in sorted(set(reason_codes or ()))
    )
    return count_table(
        "needs_not_met",
        "Needs could not be met: the rules that ruled out every unit",
        "households",
        Shape(("matcher_reason",), (codes,), margins=False),
        in_quarters(period, counts),
        note="The unmet-need table. A household may be ruled out by several rules.",
    )


async def offers_declined(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = (
        select(quarter_of(period, Offer.decided_at), Offer.decline_reason)
        .join(Referral, Referral.id == Offer.referral_id)
        .where(
            Referral.authority_code.in_(area.authorities),
            Offer.status == OfferStatus.DECLINED,
            Offer.decided_at >= period.since,
            Offer.decided_at < period.until,
        )
    )
    counts = ((q, (str(reason),), n) for q, reason, n in await _sums(session, stmt, 1))
    return count_table(
        "offers_declined",
        "Offers declined, by reason",
        "offers",
        Shape(("reason",), (cat.DECLINE_REASONS,)),
        in_quarters(period, counts),
    )


async def support_ended(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = _placements(area, period, Placement.moved_out_at).with_only_columns(
        quarter_of(period, Placement.moved_out_at), Placement.move_out_reason
    )
    counts = ((q, (str(reason or "other"),), n) for q, reason, n in await _sums(session, stmt, 1))
    return count_table(
        "support_ended",
        "Households whose support ended, by reason",
        "households",
        Shape(("reason",), (cat.MOVE_OUT_REASONS,)),
        in_quarters(period, counts),
    )


async def perpetrator_moves(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = (
        select(quarter_of(period, PerpetratorMove.accepted_at))
        .join(Referral, Referral.id == PerpetratorMove.referral_id)
        .where(
            Referral.authority_code.in_(area.authorities),
            PerpetratorMove.status.in_(
                (PerpetratorMoveStatus.ACCEPTED, PerpetratorMoveStatus.ENDED)
            ),
            PerpetratorMove.accepted_at >= period.since,
            PerpetratorMove.accepted_at < period.until,
        )
    )
    counts = ((q, ("moved",), n) for q, n in await _sums(session, stmt, 0))
    return count_table(
        "perpetrator_moves",
        "Perpetrators rehoused so the household could stay at home",
        "households",
        Shape(("outcome",), (("moved",),), margins=False),
        in_quarters(period, counts),
    )
