"""Statistical disclosure control: which figures of a table may be published.

Pure (no database): a table is its cells' true counts and the additive relations among
them (a total and its parts). Rules, as the report states them:

- a count from 1 to 4 is not shown (`[c]`, the GSS shorthand): *primary* suppression;
- more counts are withheld (*secondary* suppression) until no withheld count can be
  worked out from what is shown: not from a total and the other parts of it, not from
  several totals together (linear algebra over every relation of the table), and not
  from the fact that a withheld count is at least 1 (two withheld parts of a published
  total of 2 would both be 1);
- zeros are shown (a zero tells nobody about a person) and are never used to protect
  another count, so every `[c]` is at least 1;
- regional and national figures are then rounded to the nearest 10, as the published
  statistics are.

Secondary cells are chosen cheapest first: the smallest count, a part before a total.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog

SMALLEST_SHOWN = 5
"""Counts from 1 to SMALLEST_SHOWN - 1 are withheld."""


@dataclass(frozen=True, slots=True)
class Relation:
    """`total` is the sum of `parts` (all keys of cells of the same table)."""

    total: Hashable
    parts: tuple[Hashable, ...]

    @property
    def members(self) -> tuple[Hashable, ...]:
        return (self.total, *self.parts)


def is_small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


@dataclass(slots=True)
class _Known:
    """What one `protect` has already worked out about groups of withheld cells, by the
    group's cells (which decide its equations: a relation touching two groups would have
    made them one): the groups found safe, whether each cell is pinned once that needed
    the bounds, and the values of the group's cells that the linear programs found
    possible. So a group is solved again only when its cells change, and a cell that one
    of those solutions moves by 1 is not solved for at all."""

    safe: set[frozenset[Hashable]] = field(default_factory=set)
    pinned: dict[tuple[frozenset[Hashable], Hashable], bool] = field(default_factory=dict)
    points: dict[frozenset[Hashable], list[np.ndarray]] = field(default_factory=dict)


def protect(counts: Mapping[Any, int], relations: Sequence[Relation]) -> frozenset[Hashable]:
    """The cells to withhold: every small count, and enough others that none can be derived."""
    withheld = {key for key, count in counts.items() if is_small(count)}
    known = _Known()
    while _lone_cells(counts, relations, withheld) or _derivable_cells(
        counts, relations, withheld, known
    ):
        pass
    return frozenset(withheld)


def _lone_cells(
    counts: Mapping[Any, int], relations: Sequence[Relation], withheld: set[Hashable]
) -> bool:
    """Protect every withheld cell alone in a relation, or forced to 1 by one; whether any
    cell was added (one pass over the relations)."""
    added = False
    for relation in relations:
        hidden = [m for m in relation.members if m in withheld]
        if len(hidden) == 1 or _forced_to_ones(counts, relation, hidden):
            choice = _cheapest(counts, relation, withheld, avoid_ones=len(hidden) > 1)
            if choice is not None:
                withheld.add(choice)
                added = True
    return added


def _derivable_cells(
    counts: Mapping[Any, int],
    relations: Sequence[Relation],
    withheld: set[Hashable],
    known: _Known,
) -> bool:
    """Protect one cell the relations pin down together; whether any cell was added."""
    for key, linked in _derivable(counts, relations, withheld, known):
        # Its own relations first, fewest withheld first; then any relation of its group.
        touching = sorted(
            (r for r in relations if key in r.members),
            key=lambda r: sum(m in withheld for m in r.members),
        )
        for relation in [*touching, *linked]:
            choice = _cheapest(counts, relation, withheld, avoid_ones=False)
            if choice is not None:
                withheld.add(choice)
                return True
    return False


def _forced_to_ones(
    counts: Mapping[Any, int], relation: Relation, hidden: Sequence[Hashable]
) -> bool:
    """Whether the withheld parts of a shown total can only all be 1 (their known sum is
    their number, and each is at least 1)."""
    if len(hidden) < 2 or relation.total in hidden:
        return False
    return sum(counts[m] for m in hidden) == len(hidden)


def _cheapest(
    counts: Mapping[Any, int],
    relation: Relation,
    withheld: set[Hashable],
    *,
    avoid_ones: bool,
) -> Hashable | None:
    """The shown, non-zero member of `relation` that costs least to withhold."""
    floor = 2 if avoid_ones else 1
    candidates = [
        (m == relation.total, counts[m], str(m), m)
        for m in relation.members
        if m not in withheld and counts[m] >= floor
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[:3])[3]


def _derivable(
    counts: Mapping[Any, int],
    relations: Sequence[Relation],
    withheld: set[Hashable],
    known: _Known,
) -> Iterator[tuple[Hashable, list[Relation]]]:
    """Withheld cells a reader could work out exactly from what is shown, each with the
    relations of its group (where more cells can be withheld to protect it), in the order
    of their names; lazily, as the caller protects the first it can and asks again.

    Each relation is a linear equation in the withheld cells (the shown ones are known
    numbers). A cell is pinned by the equations alone when every solution of the
    homogeneous system leaves it unchanged: its row of the null space is zero. A withheld
    1 sits on the bound every reader knows (a `[c]` is at least 1), and bounds can pin a
    cell the equations leave free; so where a group holds a 1, each small count that a
    cheap move along the null space cannot shift by 1 is a candidate, and whether it can
    move at all is found by linear programming, only when the candidate's turn comes.
    Solved per group of cells linked through relations, so the problems stay small.
    """
    candidates: list[tuple[str, Hashable, list[Relation], frozenset[Hashable] | None]] = []
    problems: dict[frozenset[Hashable], tuple[np.ndarray, np.ndarray, dict[Hashable, int]]] = {}
    for cells, equations in _components(relations, withheld):
        group = frozenset(cells)
        if not equations or group in known.safe:
            continue
        index = {key: i for i, key in enumerate(cells)}
        matrix, constants = _equations(counts, equations, index)
        null = _null_space(matrix)
        pinned = [k for k, i in index.items() if np.all(np.abs(null[i]) < 1e-9)]
        doubtful: list[Hashable] = []
        if not pinned and any(counts[k] == 1 for k in cells):
            values = np.array([counts[k] for k in cells], dtype=float)
            moves = _line_moves(_sparse_null_space(matrix), values)
            doubtful = [k for k, i in index.items() if is_small(counts[k]) and moves[i] < 1 - 1e-6]
            doubtful = [k for k in doubtful if known.pinned.get((group, k), True)]
            problems[group] = (matrix, constants, index)
        candidates += [(str(k), k, equations, None) for k in pinned]
        candidates += [(str(k), k, equations, group) for k in doubtful]
        if not pinned and not doubtful:
            known.safe.add(group)
    for _, key, equations, bounded in sorted(candidates, key=lambda c: c[0]):
        if bounded is None or _pinned_by_bounds(counts, known, problems[bounded], bounded, key):
            yield key, equations


def _equations(
    counts: Mapping[Any, int], equations: Sequence[Relation], index: Mapping[Hashable, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The relations as `matrix @ withheld = constants` (the shown members moved right)."""
    matrix = np.zeros((len(equations), len(index)))
    constants = np.zeros(len(equations))
    for row, relation in enumerate(equations):
        for member, sign in ((relation.total, 1.0), *((p, -1.0) for p in relation.parts)):
            if member in index:
                matrix[row, index[member]] += sign
            else:
                constants[row] -= sign * counts[member]
    return matrix, constants


def _pinned_by_bounds(
    counts: Mapping[Any, int],
    known: _Known,
    problem: tuple[np.ndarray, np.ndarray, dict[Hashable, int]],
    group: frozenset[Hashable],
    key: Hashable,
) -> bool:
    """Whether the equations with every withheld cell at least 1 pin `key` (remembered)."""
    if (group, key) not in known.pinned:
        matrix, constants, index = problem
        cell, value = index[key], float(counts[key])
        points = known.points.setdefault(group, [])
        moves = any(abs(point[cell] - value) >= 1 - 1e-6 for point in points)
        known.pinned[(group, key)] = not (
            moves or _moves_by_one(matrix, constants, cell, value, points)
        )
    return known.pinned[(group, key)]


def _moves_by_one(
    matrix: np.ndarray, known: np.ndarray, cell: int, value: float, points: list[np.ndarray]
) -> bool:
    """Whether cell `cell` (now `value`) can be 1 more or 1 less under the equations with
    every withheld cell at least 1: the greatest value first (a withheld 1 cannot fall).
    Each solution is added to `points`: values of every cell that a reader cannot rule
    out, which may show other cells moving without a program of their own."""
    objective = np.zeros(matrix.shape[1])
    objective[cell] = 1.0
    high = linprog(-objective, A_eq=matrix, b_eq=known, bounds=(1, None), method="highs")
    if high.status == 3:  # unbounded
        return True
    points.append(high.x)
    if -high.fun >= value + 1 - 1e-6:  # room above
        return True
    low = linprog(objective, A_eq=matrix, b_eq=known, bounds=(1, None), method="highs")
    points.append(low.x)
    return bool(-high.fun - low.fun >= 1 - 1e-6)


def _line_moves(null: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each cell, how far it can move along one basis direction of the null space,
    both ways, keeping every withheld cell at least 1: a lower bound on its range, cheap
    to find, so that linear programs are solved only for cells it leaves in doubt."""
    best = np.zeros(null.shape[0])
    slack = values - 1.0
    for direction in null.T:
        falling, rising = direction < -1e-9, direction > 1e-9
        forward = np.min(slack[falling] / -direction[falling]) if falling.any() else np.inf
        backward = np.min(slack[rising] / direction[rising]) if rising.any() else np.inf
        moved = np.abs(direction) > 1e-9
        with np.errstate(invalid="ignore"):
            reach = np.where(moved, np.abs(direction) * (forward + backward), 0.0)
        best = np.maximum(best, reach)
    return best


def _sparse_null_space(matrix: np.ndarray) -> np.ndarray:
    """A null-space basis from the reduced row echelon form: one vector per free cell,
    sparse (for a table's totals, each is a cycle of cells), so few bounds block it."""
    reduced = matrix.astype(float).copy()
    rows, cols = reduced.shape
    pivots: list[int] = []
    row = 0
    for col in range(cols):
        if row == rows:
            break
        best = row + int(np.argmax(np.abs(reduced[row:, col])))
        if abs(reduced[best, col]) < 1e-9:
            continue
        reduced[[row, best]] = reduced[[best, row]]
        reduced[row] /= reduced[row, col]
        others = [r for r in range(rows) if r != row]
        reduced[others] -= np.outer(reduced[others, col], reduced[row])
        pivots.append(col)
        row += 1
    free = [c for c in range(cols) if c not in pivots]
    basis = np.zeros((cols, len(free)))
    for j, f in enumerate(free):
        basis[f, j] = 1.0
        for r, p in enumerate(pivots):
            basis[p, j] = -reduced[r, f]
    return basis


def _null_space(matrix: np.ndarray) -> np.ndarray:
    _, singular, vh = np.linalg.svd(matrix)
    rank = int(np.sum(singular > 1e-9 * max(matrix.shape)))
    return np.asarray(vh[rank:].T)


def _components(
    relations: Sequence[Relation], withheld: set[Hashable]
) -> Iterable[tuple[list[Hashable], list[Relation]]]:
    """Withheld cells grouped by the relations that tie them together, with those relations."""
    parent: dict[Hashable, Hashable] = {key: key for key in withheld}

    def root(key: Hashable) -> Hashable:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    touching = [(r, [m for m in r.members if m in withheld]) for r in relations]
    touching = [(r, hidden) for r, hidden in touching if hidden]
    for _, hidden in touching:
        for other in hidden[1:]:
            parent[root(other)] = root(hidden[0])
    groups: dict[Hashable, tuple[list[Hashable], list[Relation]]] = {}
    for key in sorted(withheld, key=str):
        groups.setdefault(root(key), ([], []))[0].append(key)
    for relation, hidden in touching:
        groups[root(hidden[0])][1].append(relation)
    return groups.values()


def round_to_ten(count: int) -> int:
    """Nearest 10, halves upwards (15 -> 20), as the published statistics round."""
    return ((count + 5) // 10) * 10
