"""Running account of the constraints that couple cases: capacity, keep-apart, caps.

Used to build and repair allocations one pair at a time (greedy, flow repair) so that
every incumbent (the allocator's fallback whichever engine runs, and the hint CP-SAT
starts from when it is asked for) and every allocation returned is feasible.
"""

from collections.abc import Sequence

import numpy as np

from optimiser.candidates import Candidates
from optimiser.unit_table import IntArray


class PairRows:
    """Which rows each pair is in, as one sorted array: built with numpy from the rows'
    pair lists, since a dict of lists per pair took seconds to build at five times
    national scale (about 900,000 pairs), twice per allocation."""

    def __init__(self, pairs: int, rows: Sequence[IntArray]) -> None:
        members = np.concatenate([np.zeros(0, dtype=np.int64), *rows]).astype(np.int64)
        owners = np.repeat(np.arange(len(rows), dtype=np.int64), [len(r) for r in rows])
        order = np.argsort(members, kind="stable")
        self._rows = owners[order]
        self._starts = np.searchsorted(members[order], np.arange(pairs + 1))

    def of(self, p: int) -> IntArray:
        """The rows pair ``p`` is in, in row order."""
        rows: IntArray = self._rows[self._starts[p] : self._starts[p + 1]]
        return rows


class Account:
    def __init__(self, c: Candidates) -> None:
        self.c = c
        self.left = c.capacity.copy()
        self.placed = np.zeros(len(c.priority), dtype=np.bool_)
        self.chosen: set[int] = set()
        self.one_used = np.zeros(len(c.at_most_one), dtype=np.int64)
        self.net = np.zeros(len(c.caps), dtype=np.int64)
        self.limit = np.array([cap.limit for cap in c.caps], dtype=np.int64)
        n = len(c.household)
        self.ones = PairRows(n, c.at_most_one)
        self.sends = PairRows(n, [cap.sends for cap in c.caps])
        self.receives = PairRows(n, [cap.receives for cap in c.caps])

    def allows(self, p: int) -> bool:
        c = self.c
        if self.placed[c.household[p]] or self.left[c.target[p]] <= 0:
            return False
        ones = self.ones.of(p)
        if len(ones) and self.one_used[ones].any():
            return False
        sends = self.sends.of(p)
        return not (len(sends) and (self.net[sends] >= self.limit[sends]).any())

    def add(self, p: int) -> None:
        self.placed[self.c.household[p]] = True
        self.chosen.add(p)
        self.left[self.c.target[p]] -= 1
        self.one_used[self.ones.of(p)] += 1
        self.net[self.sends.of(p)] += 1
        self.net[self.receives.of(p)] -= 1


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
