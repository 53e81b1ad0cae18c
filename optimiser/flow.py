"""The transportation relaxation: the allocation without balance caps or keep-apart.

Without those couplings the problem is a min-cost flow (cases supply one unit of flow
each, targets absorb up to their capacity, a case may also stay unplaced), which
OR-Tools solves exactly in well under a second at national scale. Its optimum is
therefore a valid upper bound for the full problem, and, when it happens to respect the
couplings, it IS the optimum. Costs are the allocator's lexicographic values
(``Candidates.value``), so the flow maximises priority-weighted placements first.
"""

import numpy as np
from ortools.graph.python import min_cost_flow

from optimiser.candidates import Candidates
from optimiser.unit_table import IntArray


def solve_flow(c: Candidates, scale: int) -> IntArray:
    """The chosen pairs of an optimal relaxed allocation (indices into the pairs)."""
    return best_assignment(c, c.value(scale))


def best_assignment(c: Candidates, gain: IntArray) -> IntArray:
    """The chosen pairs of a transportation assignment of the most total ``gain`` (any
    integers per pair): each case at most one pair, each target at most its capacity.
    Pairs gaining nothing are left out of the network, since leaving a case unplaced
    gains as much; the pricing's Lagrangian bound (:mod:`optimiser.pricing`) calls this
    with the couplings' duals charged to each pair."""
    n_h, n_t = len(c.priority), len(c.targets)
    sink = n_h + n_t
    useful = np.flatnonzero(gain > 0)
    flow = min_cost_flow.SimpleMinCostFlow()
    pair_arcs = flow.add_arcs_with_capacity_and_unit_cost(
        c.household[useful],
        n_h + c.target[useful],
        np.ones(len(useful), dtype=np.int64),
        -gain[useful].astype(np.int64),
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        n_h + np.arange(n_t), np.full(n_t, sink), c.capacity, np.zeros(n_t, dtype=np.int64)
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n_h),
        np.full(n_h, sink),
        np.ones(n_h, dtype=np.int64),
        np.zeros(n_h, dtype=np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_h] = 1
    supplies[sink] = -n_h
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    chosen: IntArray = useful[np.asarray(flow.flows(pair_arcs)) > 0]
    return chosen
