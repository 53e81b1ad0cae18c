"""The unmet-need table counts each household once under each rule of its list, per
quarter, whatever order or repeats its list holds, and only the area's referrals closed
in the period because needs were not met: on SQLite and PostgreSQL, against a count
made here from the rows written."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from placement.enums import ReferralOutcome, ReferralStatus, RiskLevel, UnableReason
from placement.models import Authority, Referral
from placement.reports.activity import needs_not_met
from placement.reports.area import Area
from placement.reports.period import Period
from placement.reports.tables import CountTable

PERIOD = Period(date(2025, 10, 1), date(2026, 3, 31))
MAN, STO = "E08000003", "E08000007"
LISTS = [
    ["risk", "protocol"],
    ["protocol", "risk"],  # the same rules in another order
    ["risk", "risk", "access"],  # a rule twice
    ["access"],
    [],
    None,
]
Row = tuple[str, UnableReason, datetime, list[str] | None]


def rows() -> list[Row]:
    """Manchester's and Stockport's closed referrals, in both quarters and outside them."""
    out: list[Row] = []
    moments = [
        datetime(2025, 10, 1, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 2, 14, 9, 30, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),  # after the period
        datetime(2025, 9, 30, 23, 0, tzinfo=UTC),  # before it
    ]
    for i in range(40):
        out.append(
            (
                (MAN, STO)[i % 7 == 0],
                (UnableReason.NEEDS_NOT_MET, UnableReason.NO_SPACE)[i % 9 == 0],
                moments[i % len(moments)] + timedelta(minutes=i),
                LISTS[i % len(LISTS)],
            )
        )
    return out


def expected(written: list[Row]) -> list[Counter[tuple[str, ...]]]:
    quarters: list[Counter[tuple[str, ...]]] = [Counter() for _ in PERIOD.quarters]
    for code, reason, at, rules in written:
        if code != MAN or reason is not UnableReason.NEEDS_NOT_MET:
            continue
        if not PERIOD.since <= at < PERIOD.until:
            continue
        for rule in set(rules or ()):
            quarters[PERIOD.quarter_of(at.date())][(rule,)] += 1
    return quarters


async def _write(session: AsyncSession, written: list[Row]) -> None:
    for code, name in ((MAN, "Manchester"), (STO, "Stockport")):
        session.add(Authority(code=code, name=name, region="North West"))
    await session.flush()
    for code, reason, at, rules in written:
        session.add(
            Referral(
                reference=f"R-{uuid.uuid4().hex[:8]}",
                authority_code=code,
                status=ReferralStatus.CLOSED,
                risk_level=RiskLevel.MEDIUM,
                referred_on=at.date() - timedelta(days=20),
                details_ciphertext=b"sealed",
                closed_at=at,
                outcome=ReferralOutcome.UNABLE_TO_SUPPORT,
                outcome_at=at,
                unable_reason=reason,
                unmet_reason_codes=rules if reason is UnableReason.NEEDS_NOT_MET else None,
            )
        )
    await session.commit()


async def _table(url: str, written: list[Row]) -> CountTable:
    engine = create_async_engine(url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session:
            await _write(session, written)
        async with sessions() as session:
            area = Area("authority", MAN, "Manchester", frozenset({MAN}))
            return await needs_not_met(session, area, PERIOD)
    finally:
        await engine.dispose()


def test_unmet_need_counts_each_household_once_under_each_rule(database_url: str) -> None:
    written = rows()
    table = asyncio.run(_table(database_url, written))
    quarters = expected(written)
    assert all(quarters) and sum(sum(q.values()) for q in quarters) > 10
    for counted, wanted in zip(table.quarters, quarters, strict=True):
        assert {k: v for k, v in counted.items() if v} == dict(wanted)
