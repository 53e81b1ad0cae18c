"""The Part 4 report: every measure for an area and a period, as it may be published.

`ReportService.part4` chooses the area (the principal's scope decides) and the period,
computes each measure from the records, applies the disclosure control, and returns the
published tables: no count of people is released that the rules in `RULES` withhold.
Every request is on the audit trail, refused ones too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.models import Authority
from placement.reports import activity, capacity, durations, flows
from placement.reports import area as areas
from placement.reports import period as periods
from placement.reports.area import Area
from placement.reports.period import Period
from placement.reports.tables import Figure, Key
from placement.security import Principal

if TYPE_CHECKING:
    from placement.runtime import Runtime

RULES = (
    "[c]: a count of 1 to 4 is not shown, nor is any count that would let one be worked out "
    "(from a total and the other parts of it, from several totals together, or from "
    "knowing that a withheld count is at least 1). Zeros are shown.",
    "[z]: the measure does not apply (a median of no households, the occupancy of a type "
    "with no units).",
    "Periods are whole quarters that have ended. Each count belongs to the quarter its "
    "record falls in; over several quarters a count is shown only where every one of "
    "those quarters' reports shows it, so reports over overlapping periods cannot be "
    "subtracted to reveal a small count.",
    "Regional, group and national figures are rounded to the nearest 10 (halves up), as "
    "the published statistics are; an authority's figures are exact. A commissioner is "
    "given only the area of their key.",
    "Medians, 90th percentiles and shares are `[c]` where fewer than 5 records lie behind "
    "them. Units and bed spaces are provision, not people, and are shown in full.",
    "Households who began support, their individuals and why support ended count where "
    "the accommodation is; referrals, unmet need, declined offers and perpetrator moves "
    "count for the referring authority.",
)


class Measure(Protocol):
    code: str
    title: str
    unit: str
    breakdown: tuple[str, ...]
    note: str

    def publish(self, rounded: bool) -> dict[Key, Figure]: ...


@dataclass(frozen=True, slots=True)
class PublishedTable:
    code: str
    title: str
    unit: str
    breakdown: tuple[str, ...]
    note: str
    figures: dict[Key, Figure]


@dataclass(frozen=True, slots=True)
class Report:
    area: Area
    period: Period
    generated_at: datetime
    tables: tuple[PublishedTable, ...]
    names: dict[str, str] = field(default_factory=dict)
    """Authorities' and protocols' names by code or id, for people to read."""
    rules: tuple[str, ...] = RULES


MEASURES: tuple[
    Callable[[AsyncSession, Area, Period], Awaitable[Measure | tuple[Measure, ...]]], ...
] = (
    activity.referrals_received,
    activity.supported,
    activity.unable_to_support,
    activity.needs_not_met,
    activity.offers_declined,
    activity.support_ended,
    durations.length_of_stay,
    durations.time_to_placement,
    capacity.provision,
    capacity.occupancy,
    flows.cross_border,
    activity.perpetrator_moves,
)


async def build(session: AsyncSession, area: Area, period: Period) -> Report:
    """The report of `area` over `period`, as it may be published."""
    measures: list[Measure] = []
    for measure in MEASURES:
        made = await measure(session, area, period)
        measures.extend(made if isinstance(made, tuple) else (made,))
    ledgers, protocol_names = await flows.protocol_ledgers(session, area, period)
    measures.append(ledgers)
    tables = tuple(
        PublishedTable(m.code, m.title, m.unit, m.breakdown, m.note, m.publish(area.rounded))
        for m in measures
    )
    names = dict((await session.execute(select(Authority.code, Authority.name))).tuples().all())
    return Report(area, period, datetime.now(UTC), tables, {**names, **protocol_names})


class ReportService:
    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.reads = runtime.reads

    async def part4(
        self,
        *,
        authority: str | None,
        region: str | None,
        start: date | None,
        end: date | None,
    ) -> Report:
        await self.reads.record(
            self.principal,
            "report",
            "part4",
            authority or region,
            authority=authority,
            region=region,
            start=start.isoformat() if start else None,
            end=end.isoformat() if end else None,
        )
        area = await areas.choose(self.session, self.principal, authority, region)
        period = periods.choose(start, end)
        return await build(self.session, area, period)
