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

from optimiser.perpetrator import ranked_moves
from optimiser.priority import priority_points
from optimiser.problem import Problem, Unit
from optimiser.protocols import governing_protocol, room
from optimiser.rules import Request, feasible
from optimiser.scoring import PARTS, score_units
from optimiser.unit_table import IntArray, UnitTable

ALL_PARTS = (*PARTS, "perpetrator_move")
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
    option_index = {o.id: n_classes + i for i, o in enumerate(problem.rehousing_options)}

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
        moves, _ = ranked_moves(
            household, problem.rehousing_options, problem.weights, problem.as_of
        )
        n = len(rows) + len(moves)
        hh.append(np.full(n, i, dtype=np.int64))
        tg.append(
            np.concatenate([rows, [option_index[m.option_id] for m in moves]]).astype(np.int64)
        )
        block = np.zeros((n, len(ALL_PARTS)))
        for j, name in enumerate(PARTS):
            block[: len(rows), j] = scores.parts[name]
        for r, move in enumerate(moves, start=len(rows)):
            block[r] = [move.parts.get(name, 0.0) for name in ALL_PARTS]
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


def _at_most_one(
    problem: Problem, targets: list[Target], household: IntArray, target: IntArray
) -> tuple[IntArray, ...]:
    members: dict[str, list[int]] = defaultdict(list)
    for i, h in enumerate(problem.households):
        if h.perpetrator_ref is not None:
            members[h.perpetrator_ref].append(i)
    linked = {i: ref for ref, group in members.items() if len(group) > 1 for i in group}
    rows: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for p in np.flatnonzero(np.isin(household, list(linked))):
        t = targets[target[p]]
        rows[(linked[int(household[p])], t.scheme_id)].append(int(p))
    return tuple(
        np.array(pairs, dtype=np.int64)
        for _, pairs in sorted(rows.items(), key=str)
        if len({int(household[p]) for p in pairs}) > 1
    )


def _cap_rows(
    problem: Problem, representatives: list[Unit], household: IntArray, target: IntArray
) -> tuple[CapRow, ...]:
    sends: dict[tuple[str, str], list[int]] = defaultdict(list)
    receives: dict[tuple[str, str], list[int]] = defaultdict(list)
    governing = {}
    for p in range(len(household)):
        if target[p] >= len(representatives):
            continue
        sender = problem.households[household[p]].authority_code
        receiver = representatives[target[p]].authority_code
        if sender == receiver:
            continue
        key = (sender, receiver)
        if key not in governing:
            governing[key] = governing_protocol(problem.protocols, sender, receiver)
        protocol = governing[key]
        if protocol is not None and protocol.balance_cap is not None:
            sends[(protocol.id, sender)].append(p)
            receives[(protocol.id, receiver)].append(p)
    protocols = {p.id: p for p in problem.protocols}
    rows = []
    for (protocol_id, authority), pairs in sorted(sends.items()):
        limit = room(protocols[protocol_id], authority)
        assert limit is not None
        if len({int(household[p]) for p in pairs}) > limit:
            rows.append(
                CapRow(
                    protocol_id,
                    authority,
                    limit,
                    np.array(pairs, dtype=np.int64),
                    np.array(receives.get((protocol_id, authority), []), dtype=np.int64),
                )
            )
    return tuple(rows)
