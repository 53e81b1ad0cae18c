"""Allocation one case at a time: today's way by hand, and the repair of a relaxation.

First come, first served: each case in referral order (longest waiting first, then id)
takes its best-scoring target still free that keeps every coupling. The allocator uses
it as a baseline it must never do worse than, and the same fill completes a repaired
flow solution.
"""

from collections.abc import Iterable

import numpy as np

from optimiser.candidates import Candidates
from optimiser.couplings import Account, make_feasible
from optimiser.problem import Problem
from optimiser.unit_table import IntArray


def pairs_by_household(c: Candidates) -> list[IntArray]:
    """Each household's pairs, best score first, ties by target order."""
    order = np.lexsort((c.target, -c.quality, c.household))
    bounds = np.searchsorted(c.household[order], np.arange(len(c.priority) + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(len(c.priority))]


def best_pairs(c: Candidates, k: int) -> IntArray:
    """Each household's ``k`` best-scoring pairs (ties by target order): where a
    restricted model starts (see :mod:`optimiser.pricing`)."""
    order = np.lexsort((c.target, -c.quality, c.household))
    owners = c.household[order]
    rank = np.arange(len(order)) - np.searchsorted(owners, owners)
    return np.sort(order[rank < k])


def fill(account: Account, households: Iterable[int], pairs: list[IntArray]) -> None:
    for h in households:
        for p in pairs[h]:
            if account.allows(int(p)):
                account.add(int(p))
                break


def referral_order(problem: Problem) -> list[int]:
    return sorted(
        range(len(problem.households)),
        key=lambda i: (-problem.households[i].days_waiting, problem.households[i].id),
    )


def greedy(problem: Problem, c: Candidates) -> list[int]:
    """The pairs first come, first served chooses."""
    account = Account(c)
    fill(account, referral_order(problem), pairs_by_household(c))
    return sorted(account.chosen)


def repaired(c: Candidates, relaxed: IntArray, value: IntArray) -> list[int]:
    """A feasible allocation close to a relaxed one: its couplings mended, then the cases
    it had to drop (and any others) offered what is left, highest priority first."""
    account = Account(c)
    for p in make_feasible(c, relaxed, value):
        account.add(p)
    unplaced = [int(h) for h in np.flatnonzero(~account.placed)]
    unplaced.sort(key=lambda h: -c.priority[h])
    fill(account, unplaced, pairs_by_household(c))
    return sorted(account.chosen)
