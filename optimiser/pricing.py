"""The lexicographic MIP on a restricted set of pairs, priced against all of them.

At five times national scale the model has about 900,000 pair variables and HiGHS cannot
solve even its LP relaxation within a minute. Yet a household takes one target and most
of its pairs are never worth having, so each phase of :mod:`optimiser.mip` is solved by
column generation, and stays exact:
1. the LP relaxation on a restricted set of pairs (each household's best few by score,
   and the incumbent's);
2. every pair priced at once with that LP's duals on every row but one-target-per-case,
   in integers (:class:`Charged`): a pair joins the set when its gain less its charges
   beats its household's best pair in the set, and the same pass bounds every
   allocation exactly (weak duality; the full LP's value at its optimal duals when they
   are whole, as a vertex's usually are). Rounds go on until the bound meets the
   restricted LP's whole part, or time runs out. Only when no pair enters and the
   bound still falls short (fractional duals) does the min-cost flow price: charged the
   coupling rows' duals, the full problem is a transportation problem, which it solves
   exactly, and its optimum is the tighter Lagrangian bound, its pairs those to add.
   At five times national scale the flow cost 1.3 CPU seconds a round and the pass
   0.1; no round there needed the flow;
3. the best whole LP solution found (the model is nearly integral, and at five times
   national scale every LP optimum was whole), else the MIP on the restricted set;
   meeting that bound proves it optimal for the full one;
4. otherwise, since any allocation's value is at most the LP's value plus the reduced
   costs of the pairs it uses, one better than the incumbent uses only pairs whose
   reduced cost lies within the gap: the MIP over those is exact.
"""

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from optimiser.candidates import Candidates
from optimiser.flow import best_assignment
from optimiser.greedy import best_pairs
from optimiser.mip import HIGHS_OPTIMAL, coupling_matrix
from optimiser.outcome import SolverOutcome
from optimiser.unit_table import BoolArray, IntArray
from optimiser.warm_lp import WarmLP

START_PAIRS = 3
"""Pairs per household in the first restricted set."""
DUAL_GRID = 1024
"""Fractional duals are rounded to this many parts of one for the Lagrangian flow."""
DUAL_GRID_TOLERANCE = 1e-6
"""Duals this close to whole numbers are taken as whole (the rest is LP round-off)."""
ENTERING_PAIRS = 10
"""Pairs per household that join the restricted set in a round, best reduced cost first."""


@dataclass(frozen=True, slots=True)
class Phase:
    chosen: IntArray
    bound: int
    proven: bool
    restricted: BoolArray
    """The priced set of pairs, where the next phase starts."""


def _mip(
    a: sparse.csc_matrix, b: np.ndarray, gain: IntArray, keep: BoolArray, deadline: float
) -> tuple[IntArray | None, int, bool]:
    """The chosen pairs (or None), the integral bound and whether it is proven, over
    the pairs in ``keep``."""
    columns = np.flatnonzero(keep)
    result: OptimizeResult = milp(
        -gain[columns].astype(float),
        integrality=np.ones(len(columns)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(a[:, columns], -np.inf, b),
        options={
            "time_limit": max(deadline - time.monotonic(), 0.01),
            "mip_rel_gap": 0.0,
            "presolve": False,
            "disp": False,
        },
    )
    chosen = None if result.x is None else columns[result.x > 0.5]
    bound = getattr(result, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = result.fun if result.x is not None else np.inf
    upper = int(np.floor(-bound + 1e-6)) if np.isfinite(bound) else np.iinfo(np.int64).max
    return chosen, upper, result.status == HIGHS_OPTIMAL


def _slack(reduced: np.ndarray, household: IntArray) -> float:
    """How far any allocation can exceed the LP's value: for the duals at hand, at most
    the sum over households of their best positive reduced cost (a household takes one
    pair). Below one above a whole number, further pricing cannot lower the bound."""
    best = np.zeros(int(household.max(initial=-1)) + 1)
    np.maximum.at(best, household, np.maximum(reduced, 0.0))
    return float(best.sum())


def _grid(duals: np.ndarray) -> tuple[np.ndarray, int]:
    """The duals as integers on a grid of ``1 / scale`` (``scale`` 1 when they are whole,
    as a vertex's usually are), so that bounds from them are computed exactly."""
    scale = 1 if np.allclose(duals, np.rint(duals), atol=DUAL_GRID_TOLERANCE) else DUAL_GRID
    return np.maximum(np.rint(duals * scale), 0).astype(np.int64), scale


@dataclass(frozen=True, slots=True)
class Charged:
    """Every pair's gain less what duals on every row but one-target-per-case charge it,
    in integers on the duals' grid (gains times ``scale``)."""

    reduced: IntArray
    charge: IntArray
    """The duals on the grid, one per row after the one-target rows."""
    scale: int

    @classmethod
    def of(cls, rest: sparse.csr_matrix, gain: IntArray, duals: np.ndarray) -> "Charged":
        charge, scale = _grid(duals)
        return cls(gain.astype(np.int64) * scale - rest.T @ charge, charge, scale)

    def best(
        self, household: IntArray, households: int, among: BoolArray | None = None
    ) -> IntArray:
        """Per household, its best reduced gain (among the pairs in ``among``), or 0."""
        best = np.zeros(households, dtype=np.int64)
        pairs = slice(None) if among is None else among
        np.maximum.at(best, household[pairs], self.reduced[pairs])
        return best

    def bound(self, household: IntArray, households: int, rest_limits: IntArray) -> int:
        """A bound on the full problem, exact: for any ``u >= 0`` on the rows after the
        one-target rows, every allocation gains at most ``u @ limits`` plus, per
        household, its best pair's gain less what ``u`` charges it, or nothing, since a
        household takes at most one pair (weak duality). At the full LP's optimal duals,
        when whole, it is the LP's value: a round's whole proof in one pass over the pairs."""
        total = int(self.best(household, households).sum()) + int(self.charge @ rest_limits)
        return total // self.scale

    def entering(self, household: IntArray, households: int, keep: BoolArray) -> IntArray:
        """The pairs outside ``keep`` that price out, each household's
        :data:`ENTERING_PAIRS` best: those whose reduced gain beats the best of their
        household's pairs already in ``keep`` (or nothing), the columns the next LP gains
        from. Compared with the household's best rather than its row's dual, since a
        pair at its bound of one leaves that row's dual at zero."""
        kept = self.best(household, households, keep)
        out = np.flatnonzero(~keep & (self.reduced > kept[household]))
        out = out[np.lexsort((-self.reduced[out], household[out]))]
        owners = household[out]
        rank = np.arange(len(out)) - np.searchsorted(owners, owners)
        return np.sort(out[rank < ENTERING_PAIRS])


def _lagrangian(
    c: Candidates, side: sparse.csr_matrix, side_limits: IntArray, gain: IntArray, duals: np.ndarray
) -> tuple[int, IntArray]:
    """A bound on the full problem from the coupling rows' duals, and the pairs that meet it.

    Charging each coupling row's dual ``u >= 0`` to the pairs in it leaves a
    transportation problem over every pair, which the min-cost flow solves exactly; its
    optimum plus ``u @ limits`` bounds every allocation (weak duality, for any ``u``), and
    at the LP's optimal duals it equals the LP's value, since the transportation part is
    integral. The duals go on a grid of ``1 / scale`` so the flow's costs are integers:
    the bound is exact for the duals on the grid, whole when they are whole, as a vertex's
    usually are. Its pairs are those worth adding to the restricted set."""
    charge, scale = _grid(duals)
    cost = gain.astype(np.int64) * scale - side.T @ charge
    chosen = best_assignment(c, cost)
    return int(cost[chosen].sum() + charge @ side_limits) // scale, chosen


def maximise(
    c: Candidates,
    a: sparse.csc_matrix,
    b: np.ndarray,
    gain: IntArray,
    start: BoolArray,
    incumbent: IntArray,
    deadline: float,
    model: WarmLP | None = None,
) -> Phase | None:
    """Maximise ``gain @ x`` subject to ``a @ x <= b`` over binary pairs of ``c``, from a
    feasible ``incumbent``; ``a``'s first rows are ``c``'s one-target-per-case and
    capacity rows (as :func:`optimiser.mip.coupling_matrix` orders them) and the rest
    couple cases. ``None`` when the first LP did not finish before ``deadline``.
    ``method`` is HiGHS's LP method (see :func:`solve_priced` for which suits which phase)."""
    n_households = len(c.priority)
    network = n_households + len(c.targets)
    rest = a[n_households:].tocsr().astype(np.int64)
    rest_limits = np.rint(b[n_households:]).astype(np.int64)
    keep = start.copy()
    keep[incumbent] = True
    bound = np.iinfo(np.int64).max
    value = -np.inf
    best = incumbent
    out_of_time = False
    if model is None:
        model = WarmLP(a, b, gain)
    model.add(np.flatnonzero(keep & ~model.has))
    while True:
        lp = model.solve(deadline)
        out_of_time = lp is None
        if out_of_time and np.isfinite(value):
            break  # the last round's duals still bound every pair
        if lp is None:
            return None
        duals, value, whole = lp
        if whole is not None and gain[whole].sum() > gain[best].sum():
            best = whole
        reached = int(np.floor(value + 1e-6))
        charged = Charged.of(rest, gain, duals[n_households:])
        bound = min(bound, charged.bound(c.household, n_households, rest_limits))
        if bound <= reached:
            break
        missing = charged.entering(c.household, n_households, keep)
        if len(missing) == 0:
            # no pair prices out, yet the rounded duals did not prove the LP's value:
            # the flow's bound re-optimises the one-target and capacity duals exactly
            side = rest[len(c.targets) :]
            round_bound, wanted = _lagrangian(
                c, side, rest_limits[len(c.targets) :], gain, duals[network:]
            )
            bound = min(bound, round_bound)
            missing = wanted[~keep[wanted]]
            if bound <= reached or len(missing) == 0:
                break
        keep[missing] = True
        model.add(missing)
    achieved = int(gain[best].sum())
    if achieved >= bound:
        return Phase(best, achieved, True, keep)
    if out_of_time or time.monotonic() >= deadline:
        # building the MIPs below overran the limit by seconds and raised the peak memory
        # by half at five times national scale, with no time left to solve them
        return Phase(best, bound, False, keep)
    reduced = gain - a.T @ duals
    slack = _slack(reduced, c.household)
    chosen, _, proven = _mip(a, b, gain, keep, deadline)
    if chosen is not None and gain[chosen].sum() > achieved:
        best = chosen
    achieved = int(gain[best].sum())
    wide = keep | (reduced >= achieved + 0.5 - value - slack)
    if achieved >= bound or (proven and not (wide & ~keep).any()):
        return Phase(best, achieved, True, keep)
    chosen, upper, proven = _mip(a, b, gain, wide, deadline)
    if chosen is not None and gain[chosen].sum() > achieved:
        best = chosen
        achieved = int(gain[best].sum())
    if proven:
        return Phase(best, achieved, True, keep)
    return Phase(best, min(bound, max(upper, achieved)), achieved >= bound, keep)


def solve_priced(
    c: Candidates, scale: int, incumbent: list[int], hint: IntArray, deadline: float
) -> SolverOutcome | None:
    """:func:`optimiser.mip.solve_lexicographic` by pricing; ``incumbent`` is a feasible
    allocation (the allocator's fallback) and ``hint`` pairs worth starting from (the
    transportation relaxation's: near the LP's optimum, they save pricing rounds).
    ``None`` when even the first LP ran out of time; the caller then keeps its own
    allocation."""
    matrix, limits = coupling_matrix(c)
    a = matrix.tocsc()
    priority = c.priority[c.household]
    start = np.zeros(len(c.household), dtype=np.bool_)
    start[best_pairs(c, START_PAIRS)] = True
    start[hint] = True
    model = WarmLP(a, limits, priority)
    first = maximise(
        c, a, limits, priority, start, np.array(incumbent, dtype=np.int64), deadline, model
    )
    if first is None:
        return None
    if not first.proven:
        return SolverOutcome(first.chosen.tolist(), first.bound * scale + scale - 1, False)
    best_priority = int(priority[first.chosen].sum())
    held = sparse.vstack([a, -priority.reshape(1, -1).astype(float)], format="csc")
    model.hold(-priority.astype(float), -best_priority)
    model.reprice(c.quality)
    second = maximise(
        c,
        held,
        np.append(limits, -best_priority),
        c.quality,
        first.restricted,
        first.chosen,
        deadline,
        model,
    )
    if second is None:
        return SolverOutcome(first.chosen.tolist(), best_priority * scale + scale - 1, False)
    return SolverOutcome(
        second.chosen.tolist(),
        best_priority * scale + min(second.bound, scale - 1),
        second.proven,
    )
