"""Running account of the constraints that couple cases: capacity, keep-apart, caps.

Used to build and repair allocations one pair at a time (greedy, flow repair) so that
every incumbent (the allocator's fallback whichever engine runs, and the hint CP-SAT
starts from when it is asked for) and every allocation returned is feasible.
"""

from collections import defaultdict

import numpy as np

from optimiser.candidates import Candidates
from optimiser.unit_table import IntArray


class Account:
    def __init__(self, c: Candidates) -> None:
        self.c = c
        self.left = c.capacity.copy()
        self.placed = np.zeros(len(c.priority), dtype=np.bool_)
        self.chosen: set[int] = set()
        self.one_used = np.zeros(len(c.at_most_one), dtype=np.int64)
        self.net = np.zeros(len(c.caps), dtype=np.int64)
        self.ones: dict[int, list[int]] = defaultdict(list)
        self.sends: dict[int, list[int]] = defaultdict(list)
        self.receives: dict[int, list[int]] = defaultdict(list)
        for row, pairs in enumerate(c.at_most_one):
            for p in pairs:
                self.ones[int(p)].append(row)
        for row, cap in enumerate(c.caps):
            for p in cap.sends:
                self.sends[int(p)].append(row)
            for p in cap.receives:
                self.receives[int(p)].append(row)

    def allows(self, p: int) -> bool:
        c = self.c
        return bool(
            not self.placed[c.household[p]]
            and self.left[c.target[p]] > 0
            and all(self.one_used[row] == 0 for row in self.ones.get(p, ()))
            and all(self.net[row] < c.caps[row].limit for row in self.sends.get(p, ()))
        )

    def add(self, p: int) -> None:
        self.placed[self.c.household[p]] = True
        self.chosen.add(p)
        self.left[self.c.target[p]] -= 1
        for row in self.ones.get(p, ()):
            self.one_used[row] += 1
        for row in self.sends.get(p, ()):
            self.net[row] += 1
        for row in self.receives.get(p, ()):
            self.net[row] -= 1


def is_feasible(c: Candidates, chosen: list[int]) -> bool:
    """Whether ``chosen`` breaks no coupling: the allocator's last check on any solver's
    answer before it is returned. Counted over arrays rather than through an
    :class:`Account`, whose per-pair bookkeeping costs seconds at five times national
    scale."""
    pairs = np.array(chosen, dtype=np.int64)
    if len(np.unique(c.household[pairs])) != len(pairs):
        return False
    if (np.bincount(c.target[pairs], minlength=len(c.targets)) > c.capacity).any():
        return False
    mask = np.zeros(len(c.household), dtype=np.bool_)
    mask[pairs] = True
    return all(np.count_nonzero(mask[row]) <= 1 for row in c.at_most_one) and all(
        np.count_nonzero(mask[cap.sends]) - np.count_nonzero(mask[cap.receives]) <= cap.limit
        for cap in c.caps
    )


def make_feasible(c: Candidates, chosen: IntArray, value: IntArray) -> list[int]:
    """Drop the least valuable pairs of ``chosen`` until no coupling is broken.

    Capacity is never broken by a flow; keep-apart keeps the most valuable pair of each
    set; an authority over its cap loses its least valuable sends, which may push the
    receiving authority over in turn, so this repeats until nothing is broken.
    """
    keep = {int(p) for p in chosen}
    for pairs in c.at_most_one:
        inside = sorted((p for p in map(int, pairs) if p in keep), key=lambda p: -value[p])
        keep.difference_update(inside[1:])
    changed = True
    while changed:
        changed = False
        for cap in c.caps:
            sends = sorted((p for p in map(int, cap.sends) if p in keep), key=lambda p: value[p])
            excess = len(sends) - sum(1 for p in cap.receives if int(p) in keep) - cap.limit
            if excess > 0:
                keep.difference_update(sends[:excess])
                changed = True
    return sorted(keep)
