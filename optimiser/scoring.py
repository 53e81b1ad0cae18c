"""The documented score of a unit for a household: a sum of named parts.

Each part is its weight (see :class:`~optimiser.problem.Weights`) times a fit in [0, 1];
a part that does not apply to the household (no schools to keep, no places named) is 0
for every unit, so it never changes the ranking of one household's options. The
allocator uses the same scores as its quality term (see :mod:`optimiser.candidates`).
"""

from dataclasses import dataclass

import numpy as np

from optimiser.enums import Specialism, Support
from optimiser.geo import FloatArray, many_distances_km
from optimiser.problem import Household, Weights
from optimiser.rules import Request
from optimiser.unit_table import IntArray, UnitTable, bits

PARTS = ("school", "perpetrator_distance", "near", "specialist", "cost", "cross_border")


@dataclass(frozen=True, slots=True)
class Scores:
    """Parts and the facts behind them, for the units at ``rows`` of the table."""

    rows: IntArray
    parts: dict[str, FloatArray]
    total: FloatArray
    school_km: FloatArray | None
    """Distance to the farthest school, when the family keeps its school."""
    beyond_zone_km: FloatArray | None
    """Distance beyond the nearest perpetrator location's radius."""
    near_km: FloatArray | None
    """Distance to the closest named place."""


def fit_down(distance: FloatArray, scale: float) -> FloatArray:
    """1 at distance 0, falling straight to 0 at ``scale`` and beyond."""
    # `np.minimum(np.maximum(...))` is `np.clip`'s arithmetic at a fraction of its call cost.
    return np.minimum(np.maximum(1.0 - distance / scale, 0.0), 1.0)


def keeps_school(household: Household) -> bool:
    return household.keep_school and bool(household.schools)


def score_units(table: UnitTable, request: Request, rows: IntArray, weights: Weights) -> Scores:
    h = request.household
    zero = np.zeros(len(rows), dtype=np.float64)
    parts: dict[str, FloatArray] = dict.fromkeys(PARTS, zero)

    # Every distance the household asks for, in one batch: schools, zones, named places.
    schools = h.schools if keeps_school(h) else ()
    zones = tuple(z.point for z in h.perpetrator_zones)
    points = (*schools, *zones, *h.stay_near)
    km = (
        many_distances_km(points, table.lat[rows], table.lon[rows], table.cos_lat[rows])
        if points
        else zero[np.newaxis]
    )
    school_km = None
    if schools:
        school_km = km[: len(schools)].max(axis=0)
        parts["school"] = weights.school * fit_down(school_km, weights.school_scale_km)

    beyond = None
    if zones:
        radii = np.array([z.radius_km for z in h.perpetrator_zones], dtype=np.float64)
        from_zones = km[len(schools) : len(schools) + len(zones)] - radii[:, np.newaxis]
        beyond = np.maximum(from_zones.min(axis=0), 0.0)
        parts["perpetrator_distance"] = weights.perpetrator_distance * np.minimum(
            beyond / weights.perpetrator_scale_km, 1.0
        )

    near_km = None
    if h.stay_near:
        near_km = km[len(schools) + len(zones) :].min(axis=0)
        parts["near"] = weights.near * fit_down(near_km, weights.near_scale_km)

    fits: list[FloatArray] = []
    wanted = bits(Specialism, h.preferred_specialisms)
    if wanted:
        fits.append(
            np.asarray(np.bitwise_count(table.specialisms[rows] & wanted), dtype=np.float64)
            / wanted.bit_count()
        )
    if h.languages:
        known = [table.language_index[x] for x in h.languages if x in table.language_index]
        fits.append(np.asarray(table.offers_language[rows][:, known].any(axis=1), dtype=np.float64))
    needs = bits(Support, h.support_needs)
    if needs:
        fits.append(
            np.asarray(np.bitwise_count(table.support[rows] & needs), dtype=np.float64)
            / needs.bit_count()
        )
    if fits:
        parts["specialist"] = weights.specialist * np.mean(fits, axis=0)

    parts["cost"] = weights.cost * fit_down(table.weekly_cost[rows], weights.cost_scale)
    own = table.authority_index.get(h.authority_code, -1)
    parts["cross_border"] = weights.cross_border * (table.authority[rows] == own)

    total = parts[PARTS[0]]
    for name in PARTS[1:]:  # one part at a time, in order, as a sum along their axis adds
        total = total + parts[name]
    return Scores(rows, parts, total, school_km, beyond, near_km)
