"""The period a report covers: whole calendar quarters, already ended.

Why quarters, and only ended ones: local figures are exact, so two reports over
overlapping periods (January to June, January to July) would give July's counts by
subtraction, and a report on a period still running would give today's by asking again
tomorrow. So every count belongs to the one quarter its record falls in (a referral by the
day it was made, a placement by the move-in, and so on); a report over several quarters
shows a figure only where every one of those quarters' own reports shows it (see
`part4`), so it tells nothing the quarters' reports do not. Quarters follow the financial
year (April to June is its first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from placement.errors import InvalidInput

MAX_QUARTERS = 20
"""Five years: longer reports are not needed for the return and cost more to compute."""


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(start: date) -> date:
    month = start.month + 3
    return date(start.year + (month > 12), (month - 1) % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """From the first day of a quarter to the last day of a quarter, both included."""

    start: date
    end: date

    @property
    def quarters(self) -> tuple[Period, ...]:
        out = []
        start = self.start
        while start <= self.end:
            following = next_quarter(start)
            out.append(Period(start, following - timedelta(days=1)))
            start = following
        return tuple(out)

    @property
    def since(self) -> datetime:
        """The first instant of the period (UTC)."""
        return datetime.combine(self.start, time.min, UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period (UTC)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def quarter_of(self, day: date) -> int:
        """The index in `quarters` of the quarter holding `day` (which is in the period)."""
        return (day.year - self.start.year) * 4 + (day.month - self.start.month) // 3


def last_ended_quarter(today: date) -> Period:
    end = quarter_start(today) - timedelta(days=1)
    return Period(quarter_start(end), end)


def choose(start: date | None, end: date | None, today: date | None = None) -> Period:
    """The period asked for; by default the last four ended quarters. 422 naming `from`
    or `to` for a date off the quarter grid, in the future, or the wrong way round."""
    today = today or datetime.now(UTC).date()
    latest = last_ended_quarter(today)
    end = end or latest.end
    if end + timedelta(days=1) != next_quarter(quarter_start(end)):
        raise InvalidInput("to", "must be the last day of a quarter (31 March, 30 June, ...)")
    if end > latest.end:
        raise InvalidInput(
            "to",
            f"must be the end of a quarter that has ended: {latest.end.isoformat()} or earlier",
        )
    if start is None:
        start = quarter_start(end)
        for _ in range(3):
            start = quarter_start(start - timedelta(days=1))
    if start != quarter_start(start):
        raise InvalidInput("from", "must be the first day of a quarter (1 January, 1 April, ...)")
    if start > end:
        raise InvalidInput("from", "must not be after `to`")
    period = Period(start, end)
    if len(period.quarters) > MAX_QUARTERS:
        raise InvalidInput("from", f"a report covers at most {MAX_QUARTERS} quarters")
    return period
