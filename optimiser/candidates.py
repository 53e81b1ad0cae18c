"""The allocator's view of a problem: the feasible (case, target) pairs and the couplings.

A target is a CLASS of interchangeable units or one perpetrator-rehousing option. Units
that differ only in id (same scheme, location, rooms, features, policy and cost, and the
same effective availability, the first household deadline it is free by) form one class
with a capacity, since which of them a household gets changes neither feasibility, score
nor any side constraint. Aggregating them loses no optimality, and it turns a refuge of
eight identical rooms from eight variables per household into one.

Every pair here meets every hard rule except the two that couple cases, balance caps and
keep-apart; those are kept as constraint rows over pairs, and only the rows that can bind.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from optimiser.perpetrator import MOVE_PARTS, scored_moves
from optimiser.priority import priority_points
from optimiser.problem import Problem, Unit
from optimiser.protocols import governing_protocol, room
from optimiser.rules import Request, feasible
from optimiser.scoring import PARTS, score_units
from optimiser.unit_table import IntArray, UnitTable

ALL_PARTS = (*PARTS, "perpetrator_move")
MOVE_COLUMNS = [ALL_PARTS.index(name) for name in MOVE_PARTS]
"""Where each part of a perpetrator move's score goes among :data:`ALL_PARTS`."""
QUALITY_SCALE = 1000
"""The allocator's integer quality of a pair: its score as a share of the most any pair
could score, in thousandths. Dividing by a constant changes no comparison, and keeps the
solvers' integers the same size whatever the weights (so the flow's costs cannot
overflow)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A class of identical units (``unit_ids``, in id order) or one rehousing option."""

    unit_ids: tuple[str, ...]
    option_id: str | None
    scheme_id: str | None

    @property
    def capacity(self) -> int:
        return 1 if self.option_id is not None else len(self.unit_ids)


@dataclass(frozen=True, slots=True)
class CapRow:
    """``sum(sends) - sum(receives) <= limit`` for one authority under one capped protocol."""

    protocol_id: str
    authority: str
    limit: int
    sends: IntArray
    receives: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    priority: IntArray
    """Per household, in hundredths (see :mod:`optimiser.priority`)."""
    targets: tuple[Target, ...]
    capacity: IntArray
    household: IntArray
    """Per pair: index of the household in the problem."""
    target: IntArray
    """Per pair: index into ``targets``."""
    quality: IntArray
    """Per pair: see :data:`QUALITY_SCALE`."""
    parts: np.ndarray
    """Per pair x :data:`ALL_PARTS`: the score parts."""
    at_most_one: tuple[IntArray, ...]
    """Pair sets of which at most one may be chosen: linked households in one scheme, and
    the moves of one perpetrator (a perpetrator can be rehoused once)."""
    caps: tuple[CapRow, ...]

    def value(self, scale: int) -> IntArray:
        """Per pair, priority times ``scale`` plus quality: with ``scale`` above any total
        quality, maximising the sum maximises priority-weighted placements first."""
        return self.priority[self.household] * scale + self.quality

    @property
    def dominance_scale(self) -> int:
        """One more than the most quality any allocation can collect."""
        best = np.zeros(len(self.priority), dtype=np.int64)
        np.maximum.at(best, self.household, self.quality)
        return int(best.sum()) + 1


def unit_classes(units: tuple[Unit, ...], problem: Problem) -> dict[Unit, list[str]]:
    """Interchangeable units, keyed by a representative without id: any date up to
    ``as_of`` counts as ``as_of`` (the simulation classes a year's register this way)."""
    classes: dict[Unit, list[str]] = defaultdict(list)
    for unit in units:
        key = replace(unit, id="", available_from=max(unit.available_from, problem.as_of))
        classes[key].append(unit.id)
    return classes


def timely_classes(problem: Problem) -> dict[Unit, list[str]]:
    """Interchangeable units, keyed by a representative without id.

    A unit's date matters only against the households' deadlines (``max(needed_by,
    as_of)``, see :func:`optimiser.rules.not_available_yet`), so it is read as the first
    deadline it meets: units free on different days before the same deadline are one
    class. A unit free after every deadline suits no household now and gets no target,
    which keeps most of a busy register (free in weeks or months) out of every
    household's table.
    """
    deadlines = sorted({max(h.needed_by, problem.as_of) for h in problem.households})
    classes: dict[Unit, list[str]] = defaultdict(list)
    for unit in problem.units:
        first = bisect_left(deadlines, unit.available_from)
        if first < len(deadlines):
            classes[replace(unit, id="", available_from=deadlines[first])].append(unit.id)
    return classes


def build_candidates(problem: Problem) -> Candidates:
    classes = timely_classes(problem)
    representatives = [replace(key, id=f"class-{i}") for i, key in enumerate(classes)]
    targets = [Target(tuple(sorted(ids)), None, key.scheme_id) for key, ids in classes.items()]
    table = UnitTable.from_units(representatives)
    n_classes = len(targets)
    targets += [Target((), o.id, None) for o in problem.rehousing_options]

    w = problem.weights
    best_score = max(
        w.school
        + w.perpetrator_distance
        + w.near
        + w.specialist
        + w.cost
        + w.cross_border
        + w.perpetrator_move,
        1e-9,
    )
    hh: list[IntArray] = []
    tg: list[IntArray] = []
    quality: list[IntArray] = []
    parts: list[np.ndarray] = []
    for i, household in enumerate(problem.households):
        request = Request.build(
            table, household, problem.protocols, problem.as_of, apply_caps=False
        )
        rows = np.flatnonzero(feasible(table, request))
        scores = score_units(table, request, rows, problem.weights)
        moves = scored_moves(household, problem.rehousing_options, problem.weights, problem.as_of)
        n = len(rows) + len(moves.rows)
        hh.append(np.full(n, i, dtype=np.int64))
        tg.append(np.concatenate([rows, n_classes + moves.rows]).astype(np.int64))
        block = np.zeros((n, len(ALL_PARTS)))
        for j, name in enumerate(PARTS):
            block[: len(rows), j] = scores.parts[name]
        block[len(rows) :, MOVE_COLUMNS] = moves.parts
        parts.append(block)
        quality.append(np.rint(block.sum(axis=1) / best_score * QUALITY_SCALE).astype(np.int64))

    pair_household = np.concatenate(hh) if hh else np.zeros(0, dtype=np.int64)
    pair_target = np.concatenate(tg) if tg else np.zeros(0, dtype=np.int64)
    return Candidates(
        priority=np.array(
            [priority_points(h, problem.weights) for h in problem.households], dtype=np.int64
        ),
        targets=tuple(targets),
        capacity=np.array([t.capacity for t in targets], dtype=np.int64),
        household=pair_household,
        target=pair_target,
        quality=np.concatenate(quality) if quality else np.zeros(0, dtype=np.int64),
        parts=np.concatenate(parts) if parts else np.zeros((0, len(ALL_PARTS))),
        at_most_one=_at_most_one(problem, targets, pair_household, pair_target),
        caps=_cap_rows(problem, representatives, pair_household, pair_target),
    )


def _groups(keys: IntArray) -> list[IntArray]:
    """The positions of each distinct key, keys in ascending order, positions ascending."""
    order = np.argsort(keys, kind="stable")
    cuts = np.flatnonzero(np.diff(keys[order])) + 1
    return np.split(order, cuts) if len(order) else []


def _households_in(household: IntArray, pairs: IntArray) -> int:
    return len(np.unique(household[pairs]))


def _at_most_one(
    problem: Problem, targets: list[Target], household: IntArray, target: IntArray
) -> tuple[IntArray, ...]:
    """One row per perpetrator and scheme (a rehousing option counts as no scheme) whose
    pairs span two or more linked households, in the order of ``(perpetrator, scheme)``
    as text. Grouped with numpy over the pairs of linked households."""
    members: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(problem.households):
        if h.perpetrator_ref is not None:
            members[h.perpetrator_ref].append(i)
    linked = {i: ref for ref, group in members.items() if len(group) > 1 for i in group}
    refs = sorted(set(linked.values()))
    ref_index = {ref: k for k, ref in enumerate(refs)}
    ref_of = np.full(len(problem.households), -1, dtype=np.int64)
    for i, ref in linked.items():
        ref_of[i] = ref_index[ref]
    schemes = sorted({t.scheme_id for t in targets if t.scheme_id is not None})
    scheme_of = np.array(
        [-1 if t.scheme_id is None else bisect_left(schemes, t.scheme_id) for t in targets],
        dtype=np.int64,
    )
    pairs = np.flatnonzero(ref_of[household] >= 0)
    keys = ref_of[household[pairs]] * (len(schemes) + 1) + scheme_of[target[pairs]] + 1
    width = len(schemes) + 1
    # households per key, counted for every key at once: one `np.unique` per group took
    # most of this function's second at five times national scale (62,000 groups)
    spans = np.unique(
        np.unique(keys * len(problem.households) + household[pairs]) // len(problem.households),
        return_counts=True,
    )[1]
    rows = []
    for group, n in zip(_groups(keys), spans.tolist(), strict=True):
        if n > 1:
            k = int(keys[group[0]])
            rows.append((str((refs[k // width], _scheme(schemes, k % width))), pairs[group]))
    return tuple(group for _, group in sorted(rows, key=lambda row: row[0]))


def _scheme(schemes: list[str], k: int) -> str | None:
    return None if k == 0 else schemes[k - 1]


def _cap_rows(
    problem: Problem, representatives: list[Unit], household: IntArray, target: IntArray
) -> tuple[CapRow, ...]:
    """One row per capped protocol and sending authority that could send more than its
    room. The governing protocol is looked up once per (sender, receiver) of authorities,
    and the pairs grouped with numpy: a loop over every pair took seconds at five times
    national scale."""
    codes = sorted(
        {h.authority_code for h in problem.households} | {u.authority_code for u in representatives}
    )
    code = {a: k for k, a in enumerate(codes)}
    sender = np.array([code[h.authority_code] for h in problem.households], dtype=np.int64)
    receiver = np.array([code[u.authority_code] for u in representatives], dtype=np.int64)
    units = np.flatnonzero(target < len(representatives))
    send = sender[household[units]]
    receive = receiver[target[units]]
    crossing = send != receive
    units, send, receive = units[crossing], send[crossing], receive[crossing]
    capped = [p for p in problem.protocols if p.balance_cap is not None]
    route = send * len(codes) + receive
    governed = np.full(len(units), -1, dtype=np.int64)
    for group in _groups(route):
        r = int(route[group[0]])
        protocol = governing_protocol(
            problem.protocols, codes[r // len(codes)], codes[r % len(codes)]
        )
        if protocol is not None and protocol.balance_cap is not None:
            governed[group] = capped.index(protocol)
    keep = governed >= 0
    units, send, receive, governed = units[keep], send[keep], receive[keep], governed[keep]
    receives = {
        (int(governed[g[0]]), int(receive[g[0]])): units[g]
        for g in _groups(governed * len(codes) + receive)
    }
    rows = []
    for g in _groups(governed * len(codes) + send):
        protocol = capped[int(governed[g[0]])]
        authority = codes[int(send[g[0]])]
        limit = room(protocol, authority)
        assert limit is not None
        if _households_in(household, units[g]) > limit:
            rows.append(
                CapRow(
                    protocol.id,
                    authority,
                    limit,
                    units[g],
                    receives.get(
                        (int(governed[g[0]]), int(send[g[0]])), np.zeros(0, dtype=np.int64)
                    ),
                )
            )
    return tuple(sorted(rows, key=lambda row: (row.protocol_id, row.authority)))
