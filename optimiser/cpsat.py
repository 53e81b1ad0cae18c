"""The joint problem with every coupling, as a CP-SAT model over the candidate pairs.

One Boolean per feasible (case, target) pair, nothing for infeasible ones; a case takes
at most one target; a class takes at most its capacity; keep-apart and the moves of one
perpetrator are at-most-one sets; each capped authority's sends minus receives stay
within its room. The objective is ``Candidates.value``: priority dominates quality.
The search starts from a feasible hint (the better of greedy and the repaired flow), so
the first solution is already that good and the solver spends its time improving it
and raising the bound.
"""

from collections import defaultdict
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimiser.candidates import Candidates
from optimiser.unit_table import IntArray


@dataclass(frozen=True, slots=True)
class SolverOutcome:
    chosen: list[int]
    objective: int
    bound: int
    proven: bool


def solve_joint(
    c: Candidates,
    value: IntArray,
    hint: list[int],
    time_limit_s: float,
    workers: int,
) -> SolverOutcome | None:
    """``None`` when the solver found nothing in time (the caller keeps its hint)."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"p{p}") for p in range(len(value))]
    by_household: dict[int, list[int]] = defaultdict(list)
    by_target: dict[int, list[int]] = defaultdict(list)
    for p in range(len(value)):
        by_household[int(c.household[p])].append(p)
        by_target[int(c.target[p])].append(p)
    for pairs in by_household.values():
        if len(pairs) > 1:
            model.add_at_most_one(x[p] for p in pairs)
    for t, pairs in by_target.items():
        if len(pairs) > c.capacity[t]:
            model.add(sum(x[p] for p in pairs) <= int(c.capacity[t]))
    for pairs in c.at_most_one:
        model.add_at_most_one(x[int(p)] for p in pairs)
    for cap in c.caps:
        model.add(sum(x[int(p)] for p in cap.sends) - sum(x[int(p)] for p in cap.receives)
                  <= cap.limit)
    model.maximize(sum(int(value[p]) * x[p] for p in range(len(value))))
    hinted = set(hint)
    for p in range(len(value)):
        model.add_hint(x[p], p in hinted)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit_s, 0.01)
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return SolverOutcome(
        chosen=[p for p in range(len(value)) if solver.boolean_value(x[p])],
        objective=round(solver.objective_value),
        bound=round(solver.best_objective_bound),
        proven=status == cp_model.OPTIMAL,
    )
