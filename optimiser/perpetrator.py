"""Perpetrator-rehousing options: moving the perpetrator so the victim can stay home.

An option is eligible when moving the perpetrator is possible and wanted for the case,
the victim's home is known, the option can hold the case's risk and every condition on
the perpetrator (DVPN, DVPO, bail, probation), it is free in time (the same date rule as
units), and it is at least ``weights.min_perpetrator_distance_km`` from the victim's
home, every school of the children and every place the victim named (a distance exactly
at the minimum is far enough).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from optimiser.enums import RISK_RANK
from optimiser.errors import ProblemError
from optimiser.explain import describe_score
from optimiser.geo import FloatArray, distances_km, to_radians
from optimiser.problem import Household, RehousingOption, Weights
from optimiser.reasons import Reason
from optimiser.scoring import keeps_school
from optimiser.unit_table import BoolArray
from optimiser.validation import (
    validate_household,
    validate_rehousing_options,
    validate_weights,
)


@dataclass(frozen=True, slots=True)
class RankedPerpetratorOption:
    option_id: str
    score: float
    parts: dict[str, float]
    explanation: str


@dataclass(frozen=True, slots=True)
class PerpetratorOptionsResult:
    household_id: str
    checked: int
    options: tuple[RankedPerpetratorOption, ...]
    excluded: dict[str, int]
    """Options ruled out, per reason code; an option counts under each rule it breaks."""


def move_rules(
    household: Household,
    options: Sequence[RehousingOption],
    weights: Weights,
    as_of: date,
) -> tuple[list[tuple[Reason, BoolArray]], FloatArray]:
    """Per rule, the options that break it; and each option's distance from the home."""
    n = len(options)
    broken: list[tuple[Reason, BoolArray]] = []
    home = household.home
    if not household.perpetrator_move_possible or home is None:
        return [(Reason.PERPETRATOR_MOVE_NOT_POSSIBLE, np.ones(n, dtype=np.bool_))], np.zeros(n)
    lat, lon, cos_lat = to_radians(
        np.array([o.location.lat for o in options], dtype=float),
        np.array([o.location.lon for o in options], dtype=float),
    )
    from_home = distances_km(home, lat, lon, cos_lat)
    nearest = from_home
    for point in (*household.schools, *household.stay_near):
        nearest = np.minimum(nearest, distances_km(point, lat, lon, cos_lat))
    deadline = max(household.needed_by, as_of)
    rank = RISK_RANK[household.risk_level]
    broken = [
        (
            Reason.RISK,
            np.array([rank > RISK_RANK[o.max_risk_level] for o in options], dtype=np.bool_),
        ),
        (
            Reason.CONDITIONS,
            np.array(
                [not household.perpetrator_conditions <= o.accepts_conditions for o in options],
                dtype=np.bool_,
            ),
        ),
        (Reason.TOO_CLOSE, nearest < weights.min_perpetrator_distance_km),
        (
            Reason.NOT_AVAILABLE_YET,
            np.array([o.available_from > deadline for o in options], dtype=np.bool_),
        ),
    ]
    return [(r, m) for r, m in broken if m.any()], from_home


def move_parts(
    household: Household, option: RehousingOption, from_home_km: float, weights: Weights
) -> dict[str, float]:
    """The score of moving the perpetrator, in the parts a unit is scored by.

    The victim and children stay home: the school and named-place parts score in full
    where they apply, and no reciprocal balance is spent.
    """
    beyond = max(from_home_km - weights.min_perpetrator_distance_km, 0.0)
    return {
        "perpetrator_move": weights.perpetrator_move,
        "school": weights.school if keeps_school(household) else 0.0,
        "near": weights.near if household.stay_near else 0.0,
        "perpetrator_distance": weights.perpetrator_distance
        * min(beyond / weights.perpetrator_scale_km, 1.0),
        "cost": weights.cost * min(max(1.0 - option.weekly_cost / weights.cost_scale, 0.0), 1.0),
        "cross_border": weights.cross_border,
    }


def explain_move(
    option: RehousingOption, score: float, parts: dict[str, float], from_home_km: float
) -> str:
    return describe_score(
        score,
        parts,
        [
            f"The perpetrator moves to {option.authority_code}, {from_home_km:.1f} km from the "
            "victim's home; the victim and children stay home.",
            f"£{option.weekly_cost:.0f} a week.",
        ],
    )


def ranked_moves(
    household: Household,
    options: Sequence[RehousingOption],
    weights: Weights,
    as_of: date,
) -> tuple[list[RankedPerpetratorOption], dict[str, int]]:
    """Unvalidated core of :func:`perpetrator_options`, shared with the allocator."""
    if not options:
        return [], {}
    broken, from_home = move_rules(household, options, weights, as_of)
    ok = np.ones(len(options), dtype=np.bool_)
    for _, mask in broken:
        ok &= ~mask
    ranked = []
    for i in map(int, np.flatnonzero(ok)):
        parts = move_parts(household, options[i], float(from_home[i]), weights)
        score = sum(parts.values())
        ranked.append(
            RankedPerpetratorOption(
                options[i].id,
                score,
                parts,
                explain_move(options[i], score, parts, float(from_home[i])),
            )
        )
    ranked.sort(key=lambda o: (-o.score, o.option_id))
    return ranked, {str(reason): int(mask.sum()) for reason, mask in broken}


def perpetrator_options(
    household: Household,
    options: Sequence[RehousingOption],
    weights: Weights,
    as_of: date,
) -> PerpetratorOptionsResult:
    """Every rehousing option checked; the eligible ones ranked, ties by option id."""
    validate_household(household)
    validate_rehousing_options(options)
    validate_weights(weights)
    if not isinstance(as_of, date):
        raise ProblemError("as_of", "must be a date")
    ranked, excluded = ranked_moves(household, options, weights, as_of)
    return PerpetratorOptionsResult(household.id, len(options), tuple(ranked), excluded)
