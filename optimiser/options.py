"""Options for one household: every unit checked, the feasible ones ranked.

Exclusions are counted under EVERY rule a unit breaks, not only the first, so the counts
answer "how many units would this rule alone keep from the household?" (they add up to
more than the number of units ruled out). The nearest misses are the units that break the
fewest rules, lowest unit id first among equals.

Deterministic: the same table and request give the same result, ties in score broken by
unit id.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from optimiser.errors import ProblemError
from optimiser.explain import describe_score
from optimiser.geo import FloatArray
from optimiser.problem import Household, Unit, Weights
from optimiser.protocols import Protocols, as_checked
from optimiser.reasons import Reason, explain_exclusion
from optimiser.rules import Request, rule_matrix
from optimiser.scoring import PARTS, Scores, score_units
from optimiser.unit_table import BoolArray, IntArray, UnitTable
from optimiser.validation import validate_household, validate_weights

NEAREST_MISSES = 5
NO_NAMES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RankedOption:
    unit_id: str
    score: float
    parts: dict[str, float]
    explanation: str


@dataclass(frozen=True, slots=True)
class NearMiss:
    unit_id: str
    reasons: tuple[str, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class OptionsResult:
    household_id: str
    checked: int
    feasible: int
    options: tuple[RankedOption, ...]
    excluded: dict[str, int]
    """Units ruled out, per reason code; a unit counts under each rule it breaks."""
    nearest_misses: tuple[NearMiss, ...]


def _smallest(keys: IntArray, k: int) -> IntArray:
    """Indices of the ``k`` smallest distinct integer keys, in order, in linear time."""
    some = np.argpartition(keys, k)[:k] if k < len(keys) else np.arange(len(keys))
    return some[np.argsort(keys[some], kind="stable")]


def _nearest_misses(count: npt.NDArray[np.uint8], id_rank: IntArray, k: int) -> IntArray:
    """Rows of the ``k`` ruled-out units breaking the fewest rules, ties by unit id.

    Taken a rule count at a time (one rule broken, then two, ...), so only the few rows
    of the lowest counts are ordered, not every unit ruled out.
    """
    out: list[IntArray] = []
    wanted = k
    for broken in range(1, int(count.max()) + 1):
        rows = np.flatnonzero(count == broken)
        if len(rows):
            picked = rows[_smallest(id_rank[rows], min(wanted, len(rows)))]
            out.append(picked)
            wanted -= len(picked)
        if wanted == 0:
            break
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _top(total: np.ndarray, id_rank: IntArray, limit: int) -> IntArray:
    """Positions of the ``limit`` best scores, ties by unit id, without sorting them all."""
    if limit == 0:
        return np.zeros(0, dtype=np.int64)
    if limit < len(total):
        threshold = np.partition(total, len(total) - limit)[len(total) - limit]
        candidates = np.flatnonzero(total >= threshold)
    else:
        candidates = np.arange(len(total))
    order = np.lexsort((id_rank[candidates], -total[candidates]))
    return candidates[order[:limit]]


def facts(
    unit: Unit,
    household: Household,
    distances: tuple[float | None, float | None, float | None],
    authority_names: Mapping[str, str] = NO_NAMES,
) -> list[str]:
    """Plain facts behind a score: the unit's ``distances`` (farthest school, beyond the
    nearest perpetrator location's radius, closest named place; None where the household
    has none), its cost and authority, by name where ``authority_names`` knows it."""
    school_km, beyond_zone_km, near_km = distances
    out = []
    if school_km is not None:
        out.append(f"Farthest school {school_km:.1f} km.")
    if beyond_zone_km is not None:
        out.append(f"{beyond_zone_km:.1f} km beyond the nearest perpetrator location's radius.")
    if near_km is not None:
        out.append(f"Closest named place {near_km:.1f} km.")
    out.append(f"£{unit.weekly_cost:.0f} a week.")
    if unit.authority_code == household.authority_code:
        out.append("In the referring authority.")
    else:
        out.append(
            f"Cross-border, into {authority_names.get(unit.authority_code, unit.authority_code)}."
        )
    return out


def _picked(values: FloatArray | None, at: IntArray) -> list[float] | list[None]:
    """``values`` at positions ``at`` as Python floats (one conversion for all of them,
    not a numpy scalar each), or a None each where the column does not apply."""
    return [None] * len(at) if values is None else values[at].tolist()


def _ranked(
    table: UnitTable,
    household: Household,
    scores: Scores,
    top: IntArray,
    authority_names: Mapping[str, str],
) -> list[RankedOption]:
    """The options at positions ``top`` of ``scores``, explained; only these are read
    out of the score columns, so the text is built for what is returned and no more."""
    parts = [
        dict(zip(PARTS, row, strict=True))
        for row in zip(*(_picked(scores.parts[name], top) for name in PARTS), strict=True)
    ]
    distances = zip(
        _picked(scores.school_km, top),
        _picked(scores.beyond_zone_km, top),
        _picked(scores.near_km, top),
        strict=True,
    )
    options = []
    for row, score, part, distance in zip(
        scores.rows[top].tolist(), scores.total[top].tolist(), parts, distances, strict=True
    ):
        unit = table.units[row]
        options.append(
            RankedOption(
                unit_id=table.ids[row],
                score=score,
                parts=part,
                explanation=describe_score(
                    score, part, facts(unit, household, distance, authority_names)
                ),
            )
        )
    return options


def _misses(
    table: UnitTable, reasons: tuple[Reason, ...], matrix: BoolArray, count: npt.NDArray[np.uint8]
) -> list[NearMiss]:
    """The nearest misses, each with the rules it breaks read from one slice of the
    rule matrix."""
    rows = _nearest_misses(count, table.id_rank, NEAREST_MISSES)
    misses = []
    for row, broke in zip(rows.tolist(), matrix[:, rows].T.tolist(), strict=True):
        why = tuple(reason for reason, flag in zip(reasons, broke, strict=True) if flag)
        misses.append(NearMiss(table.ids[row], tuple(map(str, why)), explain_exclusion(why)))
    return misses


def options_for_household(
    table: UnitTable,
    household: Household,
    protocols: Protocols,
    weights: Weights,
    as_of: date,
    limit: int = 20,
    *,
    linked_schemes: frozenset[str] = frozenset(),
    authority_names: Mapping[str, str] = NO_NAMES,
) -> OptionsResult:
    """Rank every unit of ``table`` for ``household``.

    ``linked_schemes`` are schemes where a household linked to the same perpetrator
    already lives (the caller knows placements; the optimiser does not): units there are
    ruled out under ``keep_apart``. ``authority_names`` (code to name) lets explanations
    name authorities as officers know them.
    """
    validate_household(household)
    protocols = as_checked(protocols)
    validate_weights(weights)
    if not isinstance(as_of, date):
        raise ProblemError("as_of", "must be a date")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ProblemError("limit", "must be a whole number, 0 or more")
    request = Request.build(table, household, protocols, as_of, linked_schemes=linked_schemes)
    reasons, matrix = rule_matrix(table, request)
    # A count per row: `np.count_nonzero(matrix, axis=1)` casts and sums, tens of times slower.
    ruled_out = [int(np.count_nonzero(mask)) for mask in matrix]
    excluded = {str(reason): n for reason, n in zip(reasons, ruled_out, strict=True) if n}
    count = np.add.reduce(matrix.view(np.uint8), axis=0, dtype=np.uint8)  # one per rule at most

    rows = np.flatnonzero(count == 0)
    scores = score_units(table, request, rows, weights)
    top = _top(scores.total, table.id_rank[rows], limit)
    options = _ranked(table, household, scores, top, authority_names)
    misses = _misses(table, reasons, matrix, count) if len(rows) < len(table) else []
    return OptionsResult(
        household_id=household.id,
        checked=len(table),
        feasible=len(rows),
        options=tuple(options),
        excluded=excluded,
        nearest_misses=tuple(misses),
    )
