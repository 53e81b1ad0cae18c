"""The joint problem as one CP-SAT model: the alternative engine, kept for measurement.

One Boolean per candidate pair; a case takes at most one target; a class at most its
capacity; keep-apart and one perpetrator's moves are at-most-one sets; each capped
authority's sends minus receives stay within its room. One objective,
``Candidates.value`` (priority scaled above any quality), and the search starts from a
feasible hint. See :mod:`optimiser.mip` for why HiGHS is the default.
"""

import time
from collections import defaultdict

from ortools.sat.python import cp_model

from optimiser.candidates import Candidates
from optimiser.outcome import SolverOutcome
from optimiser.unit_table import IntArray


def solve_joint(
    c: Candidates, value: IntArray, hint: list[int], deadline: float, workers: int
) -> SolverOutcome | None:
    """``None`` when the solver found nothing before ``deadline`` (``time.monotonic``)."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"p{p}") for p in range(len(value))]
    by_household: dict[int, list[int]] = defaultdict(list)
    by_target: dict[int, list[int]] = defaultdict(list)
    for p in range(len(value)):
        by_household[int(c.household[p])].append(p)
        by_target[int(c.target[p])].append(p)
    for pairs in by_household.values():
        model.add_at_most_one(x[p] for p in pairs)
    for t, pairs in by_target.items():
        if len(pairs) > c.capacity[t]:
            model.add(sum(x[p] for p in pairs) <= int(c.capacity[t]))
    for group in c.at_most_one:
        model.add_at_most_one(x[int(p)] for p in group)
    for cap in c.caps:
        model.add(
            sum(x[int(p)] for p in cap.sends) - sum(x[int(p)] for p in cap.receives) <= cap.limit
        )
    model.maximize(sum(int(value[p]) * x[p] for p in range(len(value))))
    hinted = set(hint)
    for p in range(len(value)):
        model.add_hint(x[p], p in hinted)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(deadline - time.monotonic(), 0.01)
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return SolverOutcome(
        chosen=[p for p in range(len(value)) if solver.boolean_value(x[p])],
        bound=int(solver.best_objective_bound + 1e-6),
        proven=status == cp_model.OPTIMAL,
    )
