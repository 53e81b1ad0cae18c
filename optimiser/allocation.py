"""Allocation for many: each case ends in a unit, a perpetrator move, or unplaced.

The objective is lexicographic. First, the most priority-weighted cases resolved (a case
counts as resolved when the household moves to a unit or the perpetrator moves); then,
among allocations that resolve that much, the most quality (the sum of score parts of
:mod:`optimiser.scoring` and :mod:`optimiser.perpetrator`). ``objective`` and ``bound``
report both levels as one integer, priority points times a scale larger than any
quality total plus quality (:data:`optimiser.candidates.QUALITY_SCALE`), so the gap is
dominated by placements.

How it runs, and why each step cannot cost optimality:
1. candidate pairs: only pairs that meet every single-case rule get a variable, and
   identical units are one class with a capacity (see :mod:`optimiser.candidates`);
   coupling rows that cannot bind are dropped. Nothing else is pruned.
2. the transportation relaxation (:mod:`optimiser.flow`), exact without caps and
   keep-apart: its optimum bounds the answer, and if it breaks no coupling it IS the
   answer.
3. otherwise a feasible incumbent, the better of first-come-first-served and the mended
   relaxation (on a priced run, the mended relaxation only if pricing proves nothing:
   its LPs' whole solutions are allocations of their own), and the engine (HiGHS by
   default, :mod:`optimiser.mip`; CP-SAT on request, :mod:`optimiser.cpsat`) within the
   time limit; above :data:`PRICED_PAIRS` HiGHS works on a priced restricted set of
   pairs (:mod:`optimiser.pricing`). The result is the better of the engine's answer
   and the incumbent, so it never resolves fewer priority-weighted cases than
   first-come-first-served.
The status is ``optimal`` when the objective meets the bound, else ``feasible`` (best
found in time). ``infeasible`` cannot happen: leaving everyone unplaced is feasible.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from optimiser.binding import Binding, bindings
from optimiser.candidates import ALL_PARTS, Candidates, build_candidates
from optimiser.couplings import is_feasible
from optimiser.errors import ProblemError
from optimiser.explain import describe_score
from optimiser.greedy import greedy, repaired
from optimiser.priority import PRIORITY_SCALE
from optimiser.problem import Problem
from optimiser.unit_table import IntArray
from optimiser.validation import validate_problem

ENGINES = ("mip", "cpsat")
PRICED_PAIRS = 100_000
"""Above this many candidate pairs HiGHS solves on a priced restricted set
(:mod:`optimiser.pricing`), exact as the full model but far smaller. At two and a half
times national scale (222,564 pairs) the full model took 21 CPU seconds and 646 MB, the
priced one 5 and 327 MB; at national scale (34,429) both take a second or two, and the
full model, long the default there, stays."""


@dataclass(frozen=True, slots=True)
class Assignment:
    household_id: str
    kind: str
    """``unit``, ``perpetrator_move`` or ``unplaced``."""
    unit_id: str | None
    option_id: str | None
    priority: float
    score: float
    parts: dict[str, float]
    explanation: str
    binding: Binding | None = None
    """For an unplaced case, the constraint that keeps it out (see :mod:`optimiser.binding`)."""


@dataclass(frozen=True, slots=True)
class AllocationResult:
    status: str
    """``optimal`` (proven) or ``feasible`` (best found within the time limit)."""
    assignments: tuple[Assignment, ...]
    """One per household, in the problem's order."""
    objective: int
    bound: int
    gap: float
    """``(bound - objective) / bound``; 0 when optimal."""
    weighted_placed: float
    """Sum of the priorities of the cases resolved (moved to a unit or perpetrator moved)."""
    weighted_placed_bound: float
    """No allocation resolves more priority than this."""
    placed: int
    """Cases resolved, by unit or by perpetrator move."""
    perpetrator_moves: int
    quality: float
    """Sum of the scores of the chosen units and moves."""
    seconds: float
    engine: str


def _check_arguments(time_limit_s: float, engine: str, workers: int) -> None:
    if (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, int | float)
        or not (math.isfinite(time_limit_s) and time_limit_s > 0)
    ):
        raise ProblemError("time_limit_s", "must be a finite number of seconds above 0")
    if engine not in ENGINES:
        raise ProblemError(
            "engine", f"unknown engine {engine!r}; expected one of " + ", ".join(ENGINES)
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ProblemError("workers", "must be a whole number, 1 or more")


def allocate(
    problem: Problem, time_limit_s: float = 30.0, *, engine: str = "mip", workers: int = 2
) -> AllocationResult:
    """Allocate every case of ``problem``. ``engine`` is ``"mip"`` (HiGHS, the default) or
    ``"cpsat"``; ``workers`` is CP-SAT's thread count (only CP-SAT uses it)."""
    # The solvers load with the first allocation: OR-Tools and SciPy take seconds to
    # import, and matching one household or starting the CLI needs neither.
    from optimiser.cpsat import solve_joint
    from optimiser.flow import solve_flow
    from optimiser.mip import solve_lexicographic
    from optimiser.pricing import solve_priced

    start = time.monotonic()
    validate_problem(problem)
    _check_arguments(time_limit_s, engine, workers)
    deadline = start + time_limit_s
    c = build_candidates(problem)
    scale = c.dominance_scale
    value = c.value(scale)
    relaxed = solve_flow(c, scale).tolist()
    bound = int(value[relaxed].sum())
    chosen = relaxed
    if not is_feasible(c, relaxed):
        chosen = greedy(problem, c)
        priced = engine == "mip" and len(c.household) > PRICED_PAIRS
        if not priced:
            chosen = _better(value, chosen, repaired(c, np.array(relaxed), value))
        if priced:
            outcome = solve_priced(c, scale, chosen, np.array(relaxed), deadline)
        elif engine == "mip":
            outcome = solve_lexicographic(c, scale, deadline)
        else:
            outcome = solve_joint(c, value, chosen, deadline, workers)
        if priced and (outcome is None or not outcome.proven):
            # the priced LPs' own allocations usually prove optimal; the mended
            # relaxation costs seconds at that scale, so it is only made when they do not
            chosen = _better(value, chosen, repaired(c, np.array(relaxed), value))
        if outcome is not None:
            bound = min(bound, outcome.bound)
            if is_feasible(c, outcome.chosen) and value[outcome.chosen].sum() > value[chosen].sum():
                chosen = outcome.chosen
    objective = int(value[chosen].sum())
    return _result(problem, c, chosen, objective, max(bound, objective), scale, start, engine)


def _better(value: IntArray, first: list[int], second: list[int]) -> list[int]:
    """The more valuable of two allocations, the first on a tie."""
    return second if int(value[second].sum()) > int(value[first].sum()) else first


def _result(
    problem: Problem,
    c: Candidates,
    chosen: list[int],
    objective: int,
    bound: int,
    scale: int,
    start: float,
    engine: str,
) -> AllocationResult:
    by_household = {int(c.household[p]): p for p in chosen}
    unplaced = bindings(problem, c, chosen)
    next_unit = {t: 0 for t in range(len(c.targets))}
    assignments = []
    moves = 0
    for i, household in enumerate(problem.households):
        priority = int(c.priority[i]) / PRIORITY_SCALE
        p = by_household.get(i)
        if p is None:
            binding = unplaced[i]
            assignments.append(
                Assignment(
                    household.id,
                    "unplaced",
                    None,
                    None,
                    priority,
                    0.0,
                    {},
                    "Unplaced: " + UNPLACED[binding.kind],
                    binding,
                )
            )
            continue
        target = c.targets[int(c.target[p])]
        skip = "perpetrator_move" if target.option_id is None else "specialist"
        parts = {
            name: float(v) for name, v in zip(ALL_PARTS, c.parts[p], strict=True) if name != skip
        }
        score = float(c.parts[p].sum())
        if target.option_id is not None:
            moves += 1
            assignments.append(
                Assignment(
                    household.id,
                    "perpetrator_move",
                    None,
                    target.option_id,
                    priority,
                    score,
                    parts,
                    describe_score(
                        score,
                        parts,
                        [
                            f"Priority {priority:.2f}. The perpetrator moves to rehousing option "
                            f"{target.option_id}; the victim and children stay home."
                        ],
                    ),
                )
            )
            continue
        unit_id = target.unit_ids[next_unit[int(c.target[p])]]
        next_unit[int(c.target[p])] += 1
        assignments.append(
            Assignment(
                household.id,
                "unit",
                unit_id,
                None,
                priority,
                score,
                parts,
                describe_score(
                    score,
                    parts,
                    [
                        f"Priority {priority:.2f}. Placed in unit {unit_id} of scheme "
                        f"{target.scheme_id}."
                    ],
                ),
            )
        )
    priorities = c.priority[c.household[chosen]]
    return AllocationResult(
        status="optimal" if objective >= bound else "feasible",
        assignments=tuple(assignments),
        objective=objective,
        bound=bound,
        gap=(bound - objective) / bound if bound > 0 else 0.0,
        weighted_placed=int(priorities.sum()) / PRIORITY_SCALE,
        weighted_placed_bound=(bound // scale) / PRIORITY_SCALE,
        placed=len(chosen),
        perpetrator_moves=moves,
        quality=float(c.parts[chosen].sum()),
        seconds=time.monotonic() - start,
        engine=engine,
    )


UNPLACED = {
    "no_suitable_unit": "no unit or perpetrator-rehousing option meets every rule for this "
    "household.",
    "taken": "every unit or option that meets every rule went to a case of higher or equal "
    "priority.",
    "balance_cap": "a reciprocal balance cap stops it; lifting that cap would let it be placed.",
    "keep_apart": "a household linked to the same perpetrator holds the scheme (or the "
    "perpetrator's one move) it could have.",
    "not_proven": "the run stopped at its time limit before it could place this case or "
    "prove that it cannot.",
}
"""The optimiser's own plain sentence per binding; the service words it with names."""
