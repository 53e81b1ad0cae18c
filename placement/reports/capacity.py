"""Provision: units and bed spaces by accommodation type at the end of the period, and how
full each type was over it (occupied unit-nights over unit-nights the units existed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.models import Placement, Scheme, Unit
from placement.reports import categories as cat
from placement.reports.activity import _rows
from placement.reports.area import Area
from placement.reports.period import Period
from placement.reports.tables import (
    TOTAL,
    CountTable,
    Key,
    Shape,
    StatisticTable,
    count_table,
)

MICROSECOND = timedelta(microseconds=1)


def _in_area(area: Area, period: Period) -> list[ColumnElement[bool]]:
    """Units of the area's schemes that existed at some time in the period."""
    return [
        Scheme.authority_code.in_(area.authorities),
        Unit.created_at < period.until,
        or_(Unit.retired_at.is_(None), Unit.retired_at >= period.since),
    ]


async def provision(session: AsyncSession, area: Area, period: Period) -> CountTable:
    """Units and bed spaces in being on the last day of the period, counted by the
    database (a national register is some ten thousand units)."""
    last = period.until
    stmt = (
        select(Scheme.scheme_type, func.count(), func.sum(Unit.bed_spaces))
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(*_in_area(area, period), or_(Unit.retired_at.is_(None), Unit.retired_at >= last))
        .group_by(Scheme.scheme_type)
    )
    events = [
        ((str(kind), measure), int(weight))
        for kind, units, beds in await _rows(session, stmt)
        for measure, weight in (("units", units), ("bed_spaces", beds))
    ]
    shape = Shape(
        ("accommodation_type", "measure"), (cat.ACCOMMODATION_TYPES, ("units", "bed_spaces"))
    )
    table = count_table(
        "provision",
        "Units and bed spaces by accommodation type, at the end of the period",
        "units or bed spaces",
        shape,
        [events],
        protected=False,
        note="Provision, not people: shown in full (rounded for regions and England).",
    )
    # Units and bed spaces do not add up to each other: drop the meaningless row totals.
    table.keys = [k for k in table.keys if k[1] != TOTAL]
    return table


def _overlap(start: datetime, end: datetime | None, since: datetime, until: datetime) -> int:
    """Microseconds of [start, end) inside [since, until): whole numbers, so that sums of
    many are exact whatever their order."""
    begin, finish = max(start, since), min(end or until, until)
    return max((finish - begin) // MICROSECOND, 0)


async def occupancy(session: AsyncSession, area: Area, period: Period) -> StatisticTable:
    """Units grouped by the database on their times (a register's units mostly share
    them), placements one by one."""
    since, until = period.since, period.until
    nights: dict[str, int] = defaultdict(int)
    units = (
        select(Scheme.scheme_type, Unit.created_at, Unit.retired_at, func.count())
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(*_in_area(area, period))
        .group_by(Scheme.scheme_type, Unit.created_at, Unit.retired_at)
    )
    for kind, created, retired, count in await _rows(session, units):
        nights[str(kind)] += count * _overlap(created, retired, since, until)
    stmt = (
        select(Scheme.scheme_type, Placement.moved_in_at, Placement.moved_out_at)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(
            Scheme.authority_code.in_(area.authorities),
            Placement.moved_in_at < until,
            or_(Placement.moved_out_at.is_(None), Placement.moved_out_at >= since),
        )
    )
    occupied: dict[str, int] = defaultdict(int)
    households: dict[str, int] = defaultdict(int)
    for kind, moved_in, moved_out in await _rows(session, stmt):
        occupied[str(kind)] += _overlap(moved_in, moved_out, since, until)
        households[str(kind)] += 1
    values: dict[Key, tuple[float | None, int]] = {}
    for kind in cat.ACCOMMODATION_TYPES:
        share = 100 * occupied[kind] / nights[kind] if nights[kind] else None
        values[(kind,)] = (share, households[kind] if share is not None else 0)
    return StatisticTable(
        "occupancy",
        "Occupancy by accommodation type over the period",
        "percent of unit-nights",
        ("accommodation_type",),
        values,
        note="Nights units were occupied, as a share of the nights they were in the register.",
    )
