"""The joint problem as a MIP solved by HiGHS, lexicographically.

Measured on the benchmark's scarce instances (2 cores), on the same candidate pairs:
CP-SAT (2 workers) with a feasible hint proved the regional instance optimal in 6-7 s but
left a 0.7% gap on the national one after 50 s; HiGHS proves both optimal, in under 1 s
and about 4 s, model building included. The model is a transportation problem plus a few
hundred coupling rows, so its LP relaxation is nearly integral and branch-and-bound has
almost nothing to do; HiGHS's presolve, which cost more than the whole solve, is off.
HiGHS comes inside scipy (``scipy.optimize.milp``), so the model is built from numpy
arrays with no per-variable Python calls.

Two phases, each a small-coefficient MIP (a single objective with priority scaled above
all quality would need coefficients near 1e9, beyond what MIP tolerances resolve):
1. maximise priority-weighted placements;
2. hold that total and maximise quality.
"""

import time

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from optimiser.candidates import Candidates
from optimiser.outcome import SolverOutcome
from optimiser.unit_table import IntArray

HIGHS_OPTIMAL = 0
TOLERANCE = 1e-6


def coupling_matrix(c: Candidates) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows ``A @ x <= b``: one case one target, capacity, at-most-one sets, caps."""
    n = len(c.household)
    rows = [c.household, len(c.priority) + c.target]
    cols = [np.arange(n), np.arange(n)]
    vals = [np.ones(n), np.ones(n)]
    limits = [np.ones(len(c.priority)), c.capacity.astype(float)]
    row = len(c.priority) + len(c.targets)
    for pairs in c.at_most_one:
        rows.append(np.full(len(pairs), row))
        cols.append(pairs)
        vals.append(np.ones(len(pairs)))
        limits.append(np.ones(1))
        row += 1
    for cap in c.caps:
        rows.append(np.full(len(cap.sends) + len(cap.receives), row))
        cols.append(np.concatenate([cap.sends, cap.receives]))
        vals.append(np.concatenate([np.ones(len(cap.sends)), -np.ones(len(cap.receives))]))
        limits.append(np.array([float(cap.limit)]))
        row += 1
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n)
    )
    return matrix, np.concatenate(limits)


def _maximise(
    gain: IntArray, constraints: list[LinearConstraint], time_limit_s: float
) -> OptimizeResult:
    return milp(
        -gain.astype(float),
        integrality=np.ones(len(gain)),
        bounds=Bounds(0, 1),
        constraints=constraints,
        options={
            "time_limit": max(time_limit_s, 0.01),
            "mip_rel_gap": 0.0,
            "presolve": False,
            "disp": False,
        },
    )


def _chosen(result: OptimizeResult) -> IntArray | None:
    return None if result.x is None else np.flatnonzero(result.x > 0.5)


def _upper(result: OptimizeResult) -> int:
    """The phase's bound as an integer: objectives are integral."""
    bound = getattr(result, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = result.fun
    return int(np.floor(-bound + TOLERANCE))


def solve_lexicographic(c: Candidates, scale: int, deadline: float) -> SolverOutcome | None:
    """``None`` when HiGHS found no solution before ``deadline`` (``time.monotonic``);
    the caller then keeps its own allocation."""
    matrix, limits = coupling_matrix(c)
    rows = LinearConstraint(matrix, -np.inf, limits)
    priority = c.priority[c.household]
    first = _maximise(priority, [rows], deadline - time.monotonic())
    placed = _chosen(first)
    if placed is None:
        return None
    best_priority = int(priority[placed].sum())
    priority_proven = first.status == HIGHS_OPTIMAL
    if not priority_proven:
        return SolverOutcome(placed.tolist(), _upper(first) * scale + scale - 1, False)
    hold = LinearConstraint(priority.reshape(1, -1).astype(float), best_priority - 0.5, np.inf)
    second = _maximise(c.quality, [rows, hold], deadline - time.monotonic())
    improved = _chosen(second)
    if improved is None:
        return SolverOutcome(placed.tolist(), best_priority * scale + scale - 1, False)
    quality_bound = min(_upper(second), scale - 1)
    return SolverOutcome(
        improved.tolist(), best_priority * scale + quality_bound, second.status == HIGHS_OPTIMAL
    )
