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
from optimiser.problem import Household, Weights
from optimiser.protocols import Protocols, checked
from optimiser.reasons import Reason, explain_exclusion
from optimiser.rules import Request, broken_rules
from optimiser.scoring import PARTS, Scores, score_units
from optimiser.unit_table import IntArray, UnitTable
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
    table: UnitTable,
    request: Request,
    scores: Scores,
    at: int,
    authority_names: Mapping[str, str] = NO_NAMES,
) -> list[str]:
    """Plain facts behind a score, for the unit at position ``at`` of ``scores``;
    authorities by name where ``authority_names`` knows them, else by code."""
    out = []
    if scores.school_km is not None:
        out.append(f"Farthest school {scores.school_km[at]:.1f} km.")
    if scores.beyond_zone_km is not None:
        out.append(
            f"{scores.beyond_zone_km[at]:.1f} km beyond the nearest perpetrator location's radius."
        )
    if scores.near_km is not None:
        out.append(f"Closest named place {scores.near_km[at]:.1f} km.")
    unit = table.units[int(scores.rows[at])]
    out.append(f"£{unit.weekly_cost:.0f} a week.")
    if unit.authority_code == request.household.authority_code:
        out.append("In the referring authority.")
    else:
        out.append(
            f"Cross-border, into {authority_names.get(unit.authority_code, unit.authority_code)}."
        )
    return out


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
    protocols = checked(protocols)
    validate_weights(weights)
    if not isinstance(as_of, date):
        raise ProblemError("as_of", "must be a date")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ProblemError("limit", "must be a whole number, 0 or more")
    request = Request.build(table, household, protocols, as_of, linked_schemes=linked_schemes)
    broken = broken_rules(table, request)
    count = np.zeros(len(table), dtype=np.uint8)  # at most one per hard rule
    for _, mask in broken:
        count += mask.view(np.uint8)
    excluded = {str(reason): int(np.count_nonzero(mask)) for reason, mask in broken}

    rows = np.flatnonzero(count == 0)
    scores = score_units(table, request, rows, weights)
    options = []
    for at in _top(scores.total, table.id_rank[rows], limit):
        parts = {name: float(scores.parts[name][at]) for name in PARTS}
        score = float(scores.total[at])
        options.append(
            RankedOption(
                unit_id=table.ids[int(rows[at])],
                score=score,
                parts=parts,
                explanation=describe_score(
                    score, parts, facts(table, request, scores, int(at), authority_names)
                ),
            )
        )

    misses = []
    if len(rows) < len(table):
        for row in _nearest_misses(count, table.id_rank, NEAREST_MISSES):
            reasons = tuple(Reason(r) for r, mask in broken if mask[row])
            misses.append(
                NearMiss(table.ids[int(row)], tuple(map(str, reasons)), explain_exclusion(reasons))
            )
    return OptionsResult(
        household_id=household.id,
        checked=len(table),
        feasible=len(rows),
        options=tuple(options),
        excluded=excluded,
        nearest_misses=tuple(misses),
    )
