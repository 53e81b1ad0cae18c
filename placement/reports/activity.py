"""Counts of what happened in the period, each record in the one quarter it falls in.

Referrals, unmet need and offers belong to the referring authority (its households);
placements, their households and why support ended belong to the authority where the
accommodation is (the provision it commissions). One query a measure, portable SQL:
each returns rows of (day, category codes, weight) that `tables` counts per quarter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
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

Event = tuple[date, Key, int]


def by_quarter(period: Period, events: Iterable[Event]) -> list[list[tuple[Key, int]]]:
    """Events sorted into the period's quarters."""
    quarters: list[list[tuple[Key, int]]] = [[] for _ in period.quarters]
    for day, key, weight in events:
        quarters[period.quarter_of(day)].append((key, weight))
    return quarters


def day_of(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


async def _rows(session: AsyncSession, stmt: Select[Any]) -> Sequence[Any]:
    return (await session.execute(stmt)).all()


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
    rows = await _rows(
        session,
        select(Referral.referred_on, Referral.risk_level).where(
            Referral.authority_code.in_(area.authorities),
            Referral.referred_on >= period.start,
            Referral.referred_on <= period.end,
        ),
    )
    events = ((day, (str(risk),), 1) for day, risk in rows)
    return count_table(
        "referrals_received",
        "Referrals received, by risk level",
        "households",
        Shape(("risk_level",), (cat.RISK_LEVELS,)),
        by_quarter(period, events),
        note="Referrals the area's authorities made in the period.",
    )


async def households_supported(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = _placements(area, period, Placement.moved_in_at).with_only_columns(
        Placement.moved_in_at, Scheme.scheme_type
    )
    events = ((day_of(at), (str(kind),), 1) for at, kind in await _rows(session, stmt))
    return count_table(
        "households_supported",
        "Households that began support, by accommodation type",
        "households",
        Shape(("accommodation_type",), (cat.ACCOMMODATION_TYPES,)),
        by_quarter(period, events),
        note="Households that moved into the area's safe accommodation in the period.",
    )


def _characteristics(area: Area, period: Period) -> Select[Any]:
    return (
        _placements(area, period, Placement.moved_in_at)
        .join(ReferralCharacteristics, ReferralCharacteristics.referral_id == Placement.referral_id)
        .with_only_columns(Placement.moved_in_at, Scheme.scheme_type, ReferralCharacteristics)
    )


async def individuals_supported(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(session, _characteristics(area, period))
    events = (
        (day_of(at), (str(kind), group), getattr(traits, group))
        for at, kind, traits in rows
        for group in cat.GROUPS
    )
    return count_table(
        "individuals_supported",
        "Individuals who began support, by accommodation type and group",
        "individuals",
        Shape(("accommodation_type", "group"), (cat.ACCOMMODATION_TYPES, cat.GROUPS)),
        by_quarter(period, events),
        note="Everyone in the households that moved in: adults by gender, and children.",
    )


async def age_bands(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(session, _characteristics(area, period))
    events = (
        (day_of(at), (band,), getattr(traits, band))
        for at, _, traits in rows
        for band in cat.AGE_BANDS
    )
    return count_table(
        "individuals_by_age",
        "Individuals who began support, by age",
        "individuals",
        Shape(("age_band",), (cat.AGE_BANDS,)),
        by_quarter(period, events),
    )


async def characteristics(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(session, _characteristics(area, period))
    events = (
        (day_of(at), (trait,), int(getattr(traits, trait)))
        for at, _, traits in rows
        for trait in cat.CHARACTERISTICS
    )
    return count_table(
        "specialist_characteristics",
        "Households who began support with each specialist characteristic",
        "households",
        Shape(("characteristic",), (cat.CHARACTERISTICS,), margins=False),
        by_quarter(period, events),
        note="A household may have several, so there is no total; disabled counts members.",
    )


def _outcomes(area: Area, period: Period) -> Select[Any]:
    return select(Referral.outcome_at, Referral.unable_reason, Referral.unmet_reason_codes).where(
        Referral.authority_code.in_(area.authorities),
        Referral.outcome == ReferralOutcome.UNABLE_TO_SUPPORT,
        Referral.outcome_at >= period.since,
        Referral.outcome_at < period.until,
    )


async def unable_to_support(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(session, _outcomes(area, period))
    events = ((day_of(at), (str(reason),), 1) for at, reason, _ in rows)
    return count_table(
        "unable_to_support",
        "Households unable to be supported, by reason",
        "households",
        Shape(("reason",), (cat.UNABLE_REASONS,)),
        by_quarter(period, events),
        note="Referrals of the area closed in the period without support.",
    )


async def needs_not_met(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(session, _outcomes(area, period))
    codes = tuple(r.value for r in optimiser.Reason)
    events = (
        (day_of(at), (str(code),), 1)
        for at, reason, reason_codes in rows
        if reason == UnableReason.NEEDS_NOT_MET
        for code in sorted(set(reason_codes or ()))
    )
    return count_table(
        "needs_not_met",
        "Needs could not be met: the rules that ruled out every unit",
        "households",
        Shape(("matcher_reason",), (codes,), margins=False),
        by_quarter(period, events),
        note="The unmet-need table. A household may be ruled out by several rules.",
    )


async def offers_declined(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(
        session,
        select(Offer.decided_at, Offer.decline_reason)
        .join(Referral, Referral.id == Offer.referral_id)
        .where(
            Referral.authority_code.in_(area.authorities),
            Offer.status == OfferStatus.DECLINED,
            Offer.decided_at >= period.since,
            Offer.decided_at < period.until,
        ),
    )
    events = ((day_of(at), (str(reason),), 1) for at, reason in rows)
    return count_table(
        "offers_declined",
        "Offers declined, by reason",
        "offers",
        Shape(("reason",), (cat.DECLINE_REASONS,)),
        by_quarter(period, events),
    )


async def support_ended(session: AsyncSession, area: Area, period: Period) -> CountTable:
    stmt = _placements(area, period, Placement.moved_out_at).with_only_columns(
        Placement.moved_out_at, Placement.move_out_reason
    )
    events = (
        (day_of(at), (str(reason or "other"),), 1) for at, reason in await _rows(session, stmt)
    )
    return count_table(
        "support_ended",
        "Households whose support ended, by reason",
        "households",
        Shape(("reason",), (cat.MOVE_OUT_REASONS,)),
        by_quarter(period, events),
    )


async def perpetrator_moves(session: AsyncSession, area: Area, period: Period) -> CountTable:
    rows = await _rows(
        session,
        select(PerpetratorMove.accepted_at)
        .join(Referral, Referral.id == PerpetratorMove.referral_id)
        .where(
            Referral.authority_code.in_(area.authorities),
            PerpetratorMove.status.in_(
                (PerpetratorMoveStatus.ACCEPTED, PerpetratorMoveStatus.ENDED)
            ),
            PerpetratorMove.accepted_at >= period.since,
            PerpetratorMove.accepted_at < period.until,
        ),
    )
    events = ((day_of(at), ("moved",), 1) for (at,) in rows)
    return count_table(
        "perpetrator_moves",
        "Perpetrators rehoused so the household could stay at home",
        "households",
        Shape(("outcome",), (("moved",),), margins=False),
        by_quarter(period, events),
    )
