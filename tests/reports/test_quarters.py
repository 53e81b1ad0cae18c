"""The database places each record in the quarter `Period.quarter_of` gives its UTC day,
and counts the days from a day to a moment's UTC day as Python does: the report counts in
SQL what the reconciliation counts in Python, at the edges too."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Date, literal, select
from sqlalchemy.ext.asyncio import create_async_engine

from placement.reports.activity import quarter_of
from placement.reports.days import days_until
from placement.reports.period import Period

PERIOD = Period(date(2025, 10, 1), date(2026, 9, 30))
BST = timezone(timedelta(hours=1))
MOMENTS = [
    datetime(2025, 10, 1, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 4, 1, 0, 30, tzinfo=BST),  # 31 March in UTC
    datetime(2026, 4, 1, 1, 0, tzinfo=BST),
    datetime(2026, 9, 30, 23, 59, tzinfo=UTC),
]
DAYS = [date(2025, 10, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 9, 30)]


async def _quarters(url: str) -> tuple[list[int | None], list[int | None]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            timed = [
                await connection.scalar(
                    select(quarter_of(PERIOD, literal(m, DateTimeUTC(timezone=True))))
                )
                for m in MOMENTS
            ]
            days = [
                await connection.scalar(select(quarter_of(PERIOD, literal(d, Date()), timed=False)))
                for d in DAYS
            ]
    finally:
        await engine.dispose()
    return timed, days


def test_the_database_puts_records_in_the_quarter_of_their_utc_day(database_url: str) -> None:
    timed, days = asyncio.run(_quarters(database_url))
    assert timed == [PERIOD.quarter_of(m.astimezone(UTC).date()) for m in MOMENTS]
    assert timed == [0, 0, 1, 1, 2, 3]
    assert days == [PERIOD.quarter_of(d) for d in DAYS] == [0, 1, 2, 3]


async def _days(url: str) -> list[int | None]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [
                await connection.scalar(
                    select(days_until(literal(d, Date()), literal(m, DateTimeUTC(timezone=True))))
                )
                for m in MOMENTS
                for d in DAYS
            ]
    finally:
        await engine.dispose()


def test_the_database_counts_days_to_a_moments_utc_day(database_url: str) -> None:
    counted = asyncio.run(_days(database_url))
    assert counted == [(m.astimezone(UTC).date() - d).days for m in MOMENTS for d in DAYS]
    # 1 April 00:30 in British summer time is 31 March in UTC: no day waited.
    assert counted[3 * len(DAYS) + 1] == 0
    assert {type(c) for c in counted} == {int}
