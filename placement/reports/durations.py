"""How long things took: length of stay, and time from referral to placement (median and
90th percentile, in days), over the whole period."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from placement.models import Placement, Referral, ReferralCharacteristics, Scheme
from placement.reports import categories as cat
from placement.reports.activity import _placements, _rows, _sums, flag
from placement.reports.area import Area
from placement.reports.days import days_until
from placement.reports.period import Period
from placement.reports.tables import Key, StatisticTable, quantile


def _summary(
    days: dict[str, list[float]], codes: tuple[str, ...]
) -> dict[Key, tuple[float | None, int]]:
    out: dict[Key, tuple[float | None, int]] = {}
    for code in codes:
        values = days.get(code, [])
        out[(code, "median")] = (quantile(values, 0.5), len(values))
        out[(code, "p90")] = (quantile(values, 0.9), len(values))
    return out


async def length_of_stay(session: AsyncSession, area: Area, period: Period) -> StatisticTable:
    stmt = _placements(area, period, Placement.moved_out_at).with_only_columns(
        Scheme.scheme_type, Placement.moved_in_at, Placement.moved_out_at
    )
    days: dict[str, list[float]] = {}
    for kind, moved_in, moved_out in await _rows(session, stmt):
        days.setdefault(str(kind), []).append((moved_out - moved_in).total_seconds() / 86400)
    return StatisticTable(
        "length_of_stay",
        "Length of stay of households whose support ended, by accommodation type",
        "days",
        ("accommodation_type", "statistic"),
        _summary(days, cat.ACCOMMODATION_TYPES),
    )


async def time_to_placement(session: AsyncSession, area: Area, period: Period) -> StatisticTable:
    """Counted by the database per number of days waited and household group (a
    quantile needs every value, but households waited few distinct numbers of days). A
    household without characteristics on record counts only among all households."""
    traits = ReferralCharacteristics
    stmt = (
        _placements(area, period, Placement.moved_in_at)
        .join(Referral, Referral.id == Placement.referral_id)
        .outerjoin(traits, traits.referral_id == Placement.referral_id)
        .with_only_columns(
            days_until(Referral.referred_on, Placement.moved_in_at),
            flag(traits.nrpf),
            flag(traits.wheelchair_user),
            flag(traits.children >= 4),
            flag(traits.boy_over_12),
        )
    )
    days: dict[str, list[float]] = {}
    for waited, nrpf, wheelchair, large, boy, households in await _sums(session, stmt, 4):
        for group, member in (
            ("all", 1),
            ("nrpf", nrpf),
            ("wheelchair_user", wheelchair),
            ("large_family", large),
            ("boy_over_12", boy),
        ):
            if member:
                days.setdefault(group, []).extend([float(waited)] * households)
    return StatisticTable(
        "time_to_placement",
        "Days from referral to placement, for households that moved in",
        "days",
        ("household_group", "statistic"),
        _summary(days, cat.PLACEMENT_GROUPS),
        note="Counted from the day of the referral to the day of the move-in.",
    )
