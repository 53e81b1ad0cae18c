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
from optimiser.unit_table import BoolArray, IntArray
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


MOVE_PARTS = ("perpetrator_move", "school", "near", "perpetrator_distance", "cost", "cross_border")
"""The parts a perpetrator move is scored by, in the order they are summed."""


def move_parts(
    household: Household,
    options: Sequence[RehousingOption],
    from_home_km: FloatArray,
    weights: Weights,
) -> np.ndarray:
    """The score of moving the perpetrator to each of ``options``, ``from_home_km`` from
    the victim's home, in the parts a unit is scored by: one column per
    :data:`MOVE_PARTS`.

    The victim and children stay home: the school and named-place parts score in full
    where they apply, and no reciprocal balance is spent.
    """
    beyond = np.maximum(from_home_km - weights.min_perpetrator_distance_km, 0.0)
    weekly = np.array([o.weekly_cost for o in options], dtype=np.float64)
    parts = np.empty((len(options), len(MOVE_PARTS)))
    parts[:, 0] = weights.perpetrator_move
    parts[:, 1] = weights.school if keeps_school(household) else 0.0
    parts[:, 2] = weights.near if household.stay_near else 0.0
    parts[:, 3] = weights.perpetrator_distance * np.minimum(
        beyond / weights.perpetrator_scale_km, 1.0
    )
    parts[:, 4] = weights.cost * np.minimum(np.maximum(1.0 - weekly / weights.cost_scale, 0.0), 1.0)
    parts[:, 5] = weights.cross_border
    return parts


@dataclass(frozen=True, slots=True)
class ScoredMoves:
    """The eligible options of one case without the words: what the allocator needs of
    every case, where building each option's explanation took seconds at scale."""

    rows: IntArray
    """Indices into the options, best score first, ties by option id."""
    parts: np.ndarray
    """Per row, one column per :data:`MOVE_PARTS`."""
    score: FloatArray
    from_home_km: FloatArray
    excluded: dict[str, int]
    """Options ruled out, per reason code."""


def scored_moves(
    household: Household,
    options: Sequence[RehousingOption],
    weights: Weights,
    as_of: date,
) -> ScoredMoves:
    if not options:
        return ScoredMoves(
            np.zeros(0, dtype=np.int64),
            np.zeros((0, len(MOVE_PARTS))),
            np.zeros(0),
            np.zeros(0),
            {},
        )
    broken, from_home = move_rules(household, options, weights, as_of)
    ok = np.ones(len(options), dtype=np.bool_)
    for _, mask in broken:
        ok &= ~mask
    rows = np.flatnonzero(ok)
    parts = move_parts(household, [options[i] for i in rows.tolist()], from_home[rows], weights)
    score = np.zeros(len(rows))
    for column in range(len(MOVE_PARTS)):
        score = score + parts[:, column]  # summed part by part, as a sum of the parts would
    order = sorted(range(len(rows)), key=lambda j: (-score[j], options[int(rows[j])].id))
    return ScoredMoves(
        rows[order],
        parts[order],
        score[order],
        from_home[rows[order]],
        {str(reason): int(mask.sum()) for reason, mask in broken},
    )


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
    """Unvalidated core of :func:`perpetrator_options`, shared with the binding's words."""
    scored = scored_moves(household, options, weights, as_of)
    ranked = []
    for j, row in enumerate(scored.rows.tolist()):
        parts = dict(zip(MOVE_PARTS, scored.parts[j].tolist(), strict=True))
        score = float(scored.score[j])
        explanation = explain_move(options[row], score, parts, float(scored.from_home_km[j]))
        ranked.append(RankedPerpetratorOption(options[row].id, score, parts, explanation))
    return ranked, scored.excluded


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
