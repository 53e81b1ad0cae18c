"""The documented score of a unit for a household: a sum of named parts.

Each part is its weight (see :class:`~optimiser.problem.Weights`) times a fit in [0, 1];
a part that does not apply to the household (no schools to keep, no places named) is 0
for every unit, so it never changes the ranking of one household's options. The
allocator uses the same scores as its quality term (see :mod:`optimiser.candidates`).
"""

from dataclasses import dataclass

import numpy as np

from optimiser.enums import Specialism, Support
from optimiser.geo import FloatArray, distances_km
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
    return np.clip(1.0 - distance / scale, 0.0, 1.0)


def keeps_school(household: Household) -> bool:
    return household.keep_school and bool(household.schools)


def score_units(table: UnitTable, request: Request, rows: IntArray, weights: Weights) -> Scores:
    h = request.household
    lat, lon, cos_lat = table.lat[rows], table.lon[rows], table.cos_lat[rows]
    zero = np.zeros(len(rows), dtype=np.float64)
    parts: dict[str, FloatArray] = dict.fromkeys(PARTS, zero)

    school_km = None
    if keeps_school(h):
        school_km = np.max([distances_km(s, lat, lon, cos_lat) for s in h.schools], axis=0)
        parts["school"] = weights.school * fit_down(school_km, weights.school_scale_km)

    beyond = None
    if h.perpetrator_zones:
        beyond = np.maximum(
            np.min(
                [
                    distances_km(z.point, lat, lon, cos_lat) - z.radius_km
                    for z in h.perpetrator_zones
                ],
                axis=0,
            ),
            0.0,
        )
        parts["perpetrator_distance"] = weights.perpetrator_distance * np.minimum(
            beyond / weights.perpetrator_scale_km, 1.0
        )

    near_km = None
    if h.stay_near:
        near_km = np.min([distances_km(p, lat, lon, cos_lat) for p in h.stay_near], axis=0)
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

    total = np.sum([parts[name] for name in PARTS], axis=0) if len(rows) else zero
    return Scores(rows, parts, total, school_km, beyond, near_km)
