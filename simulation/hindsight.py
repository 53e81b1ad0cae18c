"""The hindsight optimum: the most priority-weighted placements any policy could have
made over the run, knowing every arrival, stay and closure in advance.

Three answers, all over the same inputs as a run:

- :func:`exact_optimum`, a time-expanded MIP on whole days solved by HiGHS (SciPy's
  ``milp``, as the optimiser's allocator uses): a variable per (household, class of
  identical units, day it moves in), one move-in per household, and per class and day
  no more households in than units admitting. Units alike in every attribute, in when
  they are first free and in their closures are one class with a capacity (as the
  optimiser merges identical units): interval scheduling on identical machines, so the
  class model is exact. Every history a policy makes is a solution of it (hours round
  down to days, stays and closures are whole days), so it bounds every policy. Its size
  grows with households x units x days waited: for small instances.
- :func:`capacity_bound`, the LP relaxation that scales: time is folded into capacity.
  A household placed in a class uses at least ``min(stay, days left after its last
  possible move-in)`` of the class's unit-days, and a class has no more unit-days than
  its units are free for; one variable per (household, class). Summing the exact
  model's day rows gives this model's rows, so its optimum is an upper bound on the
  exact one (and so on every policy); it is solved, routed through a hub per set of
  classes households fit, as one LP by HiGHS's interior point (with crossover).
- :func:`blocked_bound`, between the two: time in blocks of two weeks, so that a wave
  of referrals cannot borrow the unit-days of a quiet month. What a run reports
  (:func:`reported_bound`) is the exact optimum where that is small, else this.

Priority is the optimiser's own (:func:`optimiser.priority.priority_points`) at
referral, in hundredths, so that every policy is weighed on the same scale.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from optimiser.candidates import unit_classes
from optimiser.priority import PRIORITY_SCALE, priority_points
from optimiser.problem import Problem, Unit
from simulation.arrivals import Arrival
from simulation.fits import Fits
from simulation.service import HOURS, Life
from simulation.world import World

HIGHS_OPTIMAL = 0


@dataclass(frozen=True, slots=True)
class Hindsight:
    weighted_placed: float
    """Priority-weighted placements (priority points / 100), or the bound on them."""
    exact: bool
    """Whether this is the proven optimum (else an upper bound)."""
    variables: int


def window(arrival: Arrival, days: int) -> tuple[int, int] | None:
    """First and last day the household could move in, or None if it cannot in the run."""
    first = arrival.at // HOURS
    last = (min(arrival.leaves, days * HOURS) - 1) // HOURS
    return (first, last) if first <= last and arrival.at < days * HOURS else None


def points(world: World, arrival: Arrival) -> int:
    return priority_points(arrival.household, world.weights)


@dataclass(frozen=True, slots=True)
class _Class:
    rows: tuple[int, ...]
    """Unit rows of the world (empty for a rehousing option)."""
    option_row: int | None
    free_day: int
    closed_days: frozenset[int]
    scheme_type: str | None


def _exact_classes(world: World, lives: Mapping[str, Life]) -> list[_Class]:
    groups: dict[tuple[Unit, int, tuple[tuple[int, int], ...]], list[int]] = defaultdict(list)
    for row, unit in enumerate(world.units):
        lf = lives[unit.id]
        groups[(replace(unit, id=""), lf.free_from, lf.closures)].append(row)
    out = []
    for (unit, free_from, closures), rows in groups.items():
        closed = frozenset(d for s, e in closures for d in range(s // HOURS, e // HOURS))
        out.append(_Class(tuple(rows), None, free_from // HOURS, closed, unit.scheme_type))
    out += [_Class((), i, 0, frozenset(), None) for i in range(len(world.rehousing_options))]
    return out


def exact_optimum(
    world: World,
    arrivals: tuple[Arrival, ...],
    lives: Mapping[str, Life],
    days: int,
    *,
    perpetrator_moves: bool = True,
    relax: bool = False,
    time_limit_s: float = 600.0,
) -> Hindsight:
    """The time-expanded model's optimum (``relax``: its LP relaxation, a bound)."""
    fits = Fits(world)
    classes = _exact_classes(world, lives)
    if not perpetrator_moves:
        classes = [c for c in classes if c.option_row is None]
    gain: list[int] = []
    household_of: list[int] = []
    cover_rows: list[np.ndarray] = []
    cover_cols: list[np.ndarray] = []
    for h, arrival in enumerate(arrivals):
        span = window(arrival, days)
        if span is None:
            continue
        unit_ok = fits.units(arrival.template)
        option_ok = fits.options(arrival.template)
        for k, c in enumerate(classes):
            if c.option_row is None:
                if not unit_ok[c.rows[0]]:
                    continue
                assert c.scheme_type is not None
                stay = arrival.stay_days[c.scheme_type]
            else:
                if not option_ok[c.option_row]:
                    continue
                stay = arrival.tenancy_days
            for d in range(max(span[0], c.free_day), span[1] + 1):
                if d in c.closed_days:
                    continue
                col = len(gain)
                gain.append(points(world, arrival))
                household_of.append(h)
                occupied = np.arange(d, min(d + stay, days))
                cover_rows.append(k * days + occupied)
                cover_cols.append(np.full(len(occupied), col))
    n = len(gain)
    if n == 0:
        return Hindsight(0.0, True, 0)
    caps = np.array([len(c.rows) or 1 for c in classes for _ in range(days)], dtype=float)
    cover = sparse.csr_matrix(
        (
            np.ones(sum(len(r) for r in cover_rows)),
            (np.concatenate(cover_rows), np.concatenate(cover_cols)),
        ),
        shape=(len(classes) * days, n),
    )
    once = sparse.csr_matrix(
        (np.ones(n), (np.array(household_of), np.arange(n))), shape=(len(arrivals), n)
    )
    result = milp(
        -np.array(gain, dtype=float),
        integrality=np.zeros(n) if relax else np.ones(n),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(once, -np.inf, np.ones(len(arrivals))),
            LinearConstraint(cover, -np.inf, caps),
        ],
        options={"time_limit": time_limit_s, "disp": False},
    )
    proven = result.status == HIGHS_OPTIMAL and not relax
    if relax or not proven:
        bound = getattr(result, "mip_dual_bound", None)
        value = -(bound if bound is not None and np.isfinite(bound) else result.fun)
        return Hindsight(float(value) / PRIORITY_SCALE, False, n)
    return Hindsight(float(np.rint(-result.fun)) / PRIORITY_SCALE, True, n)


def capacity_bound(
    world: World,
    arrivals: tuple[Arrival, ...],
    lives: Mapping[str, Life],
    days: int,
    *,
    perpetrator_moves: bool = True,
) -> Hindsight:
    """The unit-days relaxation's optimum: an upper bound on :func:`exact_optimum`.

    The LP over :func:`capacity_pairs` is solved in the form of :func:`_hub_lp`: the
    same optimum with a tenth of the columns, one LP in seconds where the pairs' LP
    took minutes at national scale.
    """
    pairs = capacity_pairs(world, arrivals, lives, days, perpetrator_moves=perpetrator_moves)
    if len(pairs.row) == 0:
        return Hindsight(0.0, False, 0)
    gain, matrix, limit = _hub_lp(pairs)
    total = _most_priority(gain, matrix, limit, method="highs-ipm", bound="capacity")
    return Hindsight(total / PRIORITY_SCALE, False, len(pairs.row))


@dataclass(frozen=True, slots=True)
class CapacityPairs:
    """The capacity LP as pairs: maximise ``gain[row] @ x`` over ``x >= 0`` (a variable
    per pair), each group placing at most ``count`` households and each target giving at
    most ``capacity`` unit-days, a household of a pair using ``weight`` of its target's.

    Targets are the classes of :func:`_alike_classes`, then the rehousing options.
    """

    row: np.ndarray
    """Per pair: its household group."""
    col: np.ndarray
    """Per pair: its target."""
    weight: np.ndarray
    """Per pair: unit-days a household of the group uses of the target."""
    kind: np.ndarray
    """Per pair: the target's kind of accommodation (options one kind of their own). A
    group uses the same unit-days of every target of a kind: what :func:`_hub_lp` uses."""
    gain: np.ndarray
    """Per group: priority points a household of it gains placed."""
    count: np.ndarray
    """Per group: households in it."""
    capacity: np.ndarray
    """Per target: its unit-days."""


def capacity_pairs(
    world: World,
    arrivals: tuple[Arrival, ...],
    lives: Mapping[str, Life],
    days: int,
    *,
    perpetrator_moves: bool = True,
) -> CapacityPairs:
    """The pairs of :func:`capacity_bound`'s LP. Arrivals alike in household and in
    the unit-days they would use of each kind of accommodation are one group with a
    count (the LP cannot tell them apart), so are classes of one kind that the same
    households fit (:func:`_alike_classes`)."""
    fits = Fits(world)
    problem = Problem(households=(), units=world.units, as_of=world.start)
    groups = list(unit_classes(world.units, problem).items())
    class_rows = [np.array([world.unit_row[i] for i in ids]) for _, ids in groups]
    representative = np.array([rows[0] for rows in class_rows], dtype=np.int64)
    kinds = sorted({key.scheme_type for key, _ in groups})
    alike: dict[tuple[int, tuple[int, ...]], int] = defaultdict(int)
    for arrival in arrivals:
        span = window(arrival, days)
        if span is not None:
            left = days - span[1]
            use = tuple(min(arrival.stay_days[k], left) for k in kinds)
            alike[(arrival.template, (*use, min(arrival.tenancy_days, left)))] += 1
    seen = sorted({template for template, _ in alike})
    fit_of = {template: i for i, template in enumerate(seen)}
    unit_days = np.array(
        [
            float(sum(max(0, days - lives[world.units[r].id].free_from // HOURS) for r in rows))
            for rows in class_rows
        ]
    )
    fitting, kind_of, unit_days = _alike_classes(
        np.array([fits.units(t)[representative] for t in seen], dtype=np.bool_).reshape(
            len(seen), len(groups)
        ),
        np.array([kinds.index(key.scheme_type) for key, _ in groups], dtype=np.int64),
        unit_days,
    )
    n_classes = len(kind_of)
    n_options = len(world.rehousing_options) if perpetrator_moves else 0
    rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    cols: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    weights: list[np.ndarray] = [np.zeros(0)]
    pair_kinds: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    count = np.zeros(len(alike))
    gain = np.zeros(len(alike))
    for g, ((template, use), n) in enumerate(alike.items()):
        count[g] = n
        gain[g] = priority_points(world.mix[template], world.weights)
        fit = np.flatnonzero(fitting[fit_of[template]])
        opts = np.flatnonzero(fits.options(template)) if n_options else fit[:0]
        kind = np.concatenate([kind_of[fit], np.full(len(opts), len(kinds))])
        cols.append(np.concatenate([fit, n_classes + opts]))
        weights.append(np.array(use, dtype=float)[kind])
        pair_kinds.append(kind)
        rows.append(np.full(len(kind), g))
    return CapacityPairs(
        row=np.concatenate(rows),
        col=np.concatenate(cols),
        weight=np.concatenate(weights),
        kind=np.concatenate(pair_kinds),
        gain=gain,
        count=count,
        capacity=np.concatenate([unit_days, np.full(n_options, float(days))]),
    )


def _hub_lp(pairs: CapacityPairs) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray]:
    """The pairs' LP routed through hubs, as ``(gain, matrix, limit)`` for
    :func:`_most_priority`: the same optimum, a tenth of the columns.

    A group uses the same unit-days of every target of one kind, so its pairs of a kind
    (a block) differ only in where the unit-days go. A hub per distinct set of targets a
    block fits; a column per block, the households it sends to its hub (a row per group,
    at most its count), each bringing the block's unit-days; a column per (hub, target),
    unit-days the hub passes on (a row per hub: it passes on all that comes in; a row per
    target, at most its capacity). Pairs' solutions route through the hubs, and a hub's
    unit-days split back over the blocks feeding it in proportion, so the optima are
    equal; but thousands of groups fitting the same classes share one hub's columns.
    """
    order = np.lexsort((pairs.col, pairs.kind, pairs.row))
    row, col, kind = pairs.row[order], pairs.col[order], pairs.kind[order]
    weight = pairs.weight[order]
    starts = np.flatnonzero(np.r_[True, (row[1:] != row[:-1]) | (kind[1:] != kind[:-1])])
    ends = np.r_[starts[1:], len(row)]
    hub_of: dict[bytes, int] = {}
    spans = zip(starts, ends, strict=True)
    block_hub = np.array(
        [hub_of.setdefault(col[s:e].tobytes(), len(hub_of)) for s, e in spans], dtype=np.int64
    )
    members = [np.frombuffer(key, dtype=col.dtype) for key in hub_of]
    flow_hub = np.repeat(np.arange(len(members)), [len(m) for m in members])
    flow_target = np.concatenate(members)
    n_groups, n_hubs, n_blocks = len(pairs.count), len(members), len(starts)
    blocks, flows = np.arange(n_blocks), n_blocks + np.arange(len(flow_hub))
    matrix = sparse.coo_matrix(
        (
            np.concatenate(
                [np.ones(n_blocks), weight[starts], -np.ones(len(flows)), np.ones(len(flows))]
            ),
            (
                np.concatenate(
                    [
                        row[starts],
                        n_groups + block_hub,
                        n_groups + flow_hub,
                        n_groups + n_hubs + flow_target,
                    ]
                ),
                np.concatenate([blocks, blocks, flows, flows]),
            ),
        ),
        shape=(n_groups + n_hubs + len(pairs.capacity), n_blocks + len(flows)),
    ).tocsr()
    limit = np.concatenate([pairs.count, np.zeros(n_hubs), pairs.capacity])
    gain = np.concatenate([pairs.gain[row[starts]], np.zeros(len(flows))])
    used = np.flatnonzero(matrix.getnnz(axis=1))
    return gain, matrix[used], limit[used]


def _alike_classes(
    fitting: np.ndarray, kind_of: np.ndarray, unit_days: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classes of one kind that the same households fit (``fitting``: households x
    classes) as one, with their unit-days summed. The capacity LP cannot tell them
    apart: a solution over the merged class splits over its parts in proportion to
    their unit-days, and parts' solutions add up to one of it, so the optimum is the
    same; the national registry's 9,000 classes are 2,400 so (a quarter of the columns).
    """
    merged: dict[tuple[int, bytes], int] = {}
    of = np.empty(len(kind_of), dtype=np.int64)
    packed = np.packbits(fitting, axis=0)
    for k in range(len(kind_of)):
        of[k] = merged.setdefault((int(kind_of[k]), packed[:, k].tobytes()), len(merged))
    first = np.unique(of, return_index=True)[1]
    return (
        fitting[:, first],
        kind_of[first],
        np.bincount(of, weights=unit_days, minlength=len(first)),
    )


def _components(row: np.ndarray, col: np.ndarray, n_rows: int, n_cols: int) -> list[np.ndarray]:
    """The pairs of each connected set of household groups and classes."""
    graph = sparse.coo_matrix(
        (np.ones(len(row)), (row, n_rows + col)), shape=(n_rows + n_cols, n_rows + n_cols)
    )
    _, label = connected_components(graph, directed=False)
    of_pair = label[row]
    order = np.argsort(of_pair, kind="stable")
    cuts = np.flatnonzero(np.diff(of_pair[order])) + 1
    return np.split(order, cuts)


BLOCK_DAYS = 14
"""Days a block of :func:`blocked_bound` spans: two weeks, as tight as the previous
attempt's one-week trials at a fraction of the size."""


@dataclass(frozen=True, slots=True)
class _Targets:
    """Everything a household may be placed in, for :func:`blocked_bound`: the
    optimiser's classes of interchangeable units, then the rehousing options."""

    representative: np.ndarray
    """Per class: a unit row standing for it."""
    kind: np.ndarray
    """Per class: index of its scheme type in ``kinds``."""
    kinds: list[str]
    admits: np.ndarray
    """(targets, days): whether some unit of the target can take a new household that day."""
    room: np.ndarray
    """(targets, blocks): unit-days the target's units are free to be occupied in a block."""


def _targets(
    world: World, lives: Mapping[str, Life], days: int, block: int, options: int
) -> _Targets:
    problem = Problem(households=(), units=world.units, as_of=world.start)
    groups = list(unit_classes(world.units, problem).items())
    kinds = sorted({key.scheme_type for key, _ in groups})
    n_blocks = -(-days // block)
    admits = np.zeros((len(groups) + options, days), dtype=np.bool_)
    free = np.zeros((len(groups) + options, n_blocks * block))
    for k, (_, ids) in enumerate(groups):
        for unit_id in ids:
            lf = lives[unit_id]
            first = min(lf.free_from // HOURS, days)
            opens = np.zeros(days, dtype=np.bool_)
            opens[first:] = True
            for s, e in lf.closures:
                opens[s // HOURS : e // HOURS] = False
            admits[k] |= opens
            free[k, first:days] += 1
    admits[len(groups) :] = True
    free[len(groups) :, :days] = 1
    return _Targets(
        representative=np.array([world.unit_row[ids[0]] for _, ids in groups], dtype=np.int64),
        kind=np.array([kinds.index(key.scheme_type) for key, _ in groups], dtype=np.int64),
        kinds=kinds,
        admits=admits,
        room=free.reshape(len(free), n_blocks, block).sum(axis=2),
    )


def blocked_bound(
    world: World,
    arrivals: tuple[Arrival, ...],
    lives: Mapping[str, Life],
    days: int,
    *,
    block_days: int = BLOCK_DAYS,
    perpetrator_moves: bool = True,
) -> Hindsight:
    """A block-expanded LP's optimum: an upper bound on :func:`exact_optimum`, never
    above :func:`capacity_bound`'s, and far tighter when demand comes in waves.

    Time is cut into blocks of ``block_days``. A variable per (household, target, block
    it moves in), over the optimiser's classes of interchangeable units and the options.
    A household moving into a class in a block uses, of the class's unit-days in each
    later block, at least the least overlap of its stay over the days of the block it
    could move in on (in its window, some unit of the class admitting); per class and
    block no more than the class's units are free for. Any history meets these rows
    (its move-in day is one of those days, its stay overlaps at least that much), so
    the optimum bounds every history. A row per class over the whole run, the capacity
    bound's with each block's least stay, keeps it at least as tight as that bound.
    """
    fits = Fits(world)
    n_options = len(world.rehousing_options) if perpetrator_moves else 0
    t = _targets(world, lives, days, block_days, n_options)
    n_classes, n_blocks = len(t.representative), t.room.shape[1]
    alike: dict[tuple[int, int, int, tuple[int, ...]], int] = defaultdict(int)
    for arrival in arrivals:
        span = window(arrival, days)
        if span is not None:
            stays = (*(arrival.stay_days[k] for k in t.kinds), arrival.tenancy_days)
            alike[(arrival.template, span[0], span[1], stays)] += 1
    n_groups = len(alike)
    block_row = n_groups + np.arange(len(t.room))[:, None] * n_blocks
    total_row = n_groups + len(t.room) * n_blocks
    gains, owners, targets, entries = [], [], [], []
    columns = 0
    for g, ((template, first, last, stays), _) in enumerate(alike.items()):
        fit = np.flatnonzero(fits.units(template)[t.representative])
        stay = np.array(stays)[t.kind[fit]]
        if n_options:
            opts = np.flatnonzero(fits.options(template))
            fit = np.concatenate([fit, n_classes + opts])
            stay = np.concatenate([stay, np.full(len(opts), stays[-1])])
        points_of = float(priority_points(world.mix[template], world.weights))
        for b in range(first // block_days, last // block_days + 1):
            on = np.arange(max(first, b * block_days), min(last, (b + 1) * block_days - 1) + 1)
            target, least, whole = _least_uses(fit, stay, on, t.admits, days, block_days)
            cols = columns + np.arange(len(target))
            columns += len(target)
            gains.append(np.full(len(target), points_of))
            owners.append(np.full(len(target), g))
            targets.append(target)
            k, blk = np.nonzero(least)
            entries += [
                (np.full(len(target), g), cols, np.ones(len(target))),
                (block_row[target[k], 0] + blk, cols[k], least[k, blk]),
                (total_row + target, cols, whole),
            ]
    if columns == 0:
        return Hindsight(0.0, False, 0)
    matrix = sparse.csc_matrix(
        (
            np.concatenate([e[2] for e in entries]),
            (np.concatenate([e[0] for e in entries]), np.concatenate([e[1] for e in entries])),
        ),
        shape=(total_row + len(t.room), columns),
    )
    limit = np.concatenate([np.array(list(alike.values()), float), t.room.ravel(), t.room.sum(1)])
    gain = np.concatenate(gains)
    owner, target = np.concatenate(owners), np.concatenate(targets)
    total = 0.0
    for part in _components(owner, target, n_groups, len(t.room)):
        total += _solve_part(matrix[:, part], gain[part], limit)
    return Hindsight(total / PRIORITY_SCALE, False, columns)


def _least_uses(
    fit: np.ndarray, stay: np.ndarray, on: np.ndarray, admits: np.ndarray, days: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For moving into each target of ``fit`` on one of the days ``on`` (all in one
    block): the targets some day of ``on`` admits, the least unit-days the stay takes of
    each block (targets x blocks) and the least it takes in all."""
    ok = admits[fit][:, on]
    keep = ok.any(axis=1)
    fit, stay, ok = fit[keep], stay[keep], ok[keep]
    ends = np.minimum(on[None, :] + stay[:, None], days)
    n_blocks = -(-days // block)
    starts = np.arange(n_blocks) * block
    overlap = np.clip(
        np.minimum(ends[:, :, None], np.minimum(starts + block, days)[None, None, :])
        - np.maximum(on[None, :, None], starts[None, None, :]),
        0,
        None,
    )
    big = days + 1
    least = np.where(ok[:, :, None], overlap, big).min(axis=1)
    whole = np.where(ok, ends - on[None, :], big).min(axis=1)
    return fit, least.astype(float), whole.astype(float)


def _solve_part(matrix: sparse.csc_matrix, gain: np.ndarray, limit: np.ndarray) -> float:
    """One connected part of the blocked LP: the most priority its columns can place
    (HiGHS's interior point: on the demo year about half the dual simplex's time)."""
    used = np.flatnonzero(matrix.getnnz(axis=1))
    return _most_priority(
        gain, matrix[used].tocsr(), limit[used], method="highs-ipm", bound="blocked"
    )


def _most_priority(
    gain: np.ndarray, matrix: sparse.csr_matrix, limit: np.ndarray, *, method: str, bound: str
) -> float:
    """The most priority ``gain @ x`` placing can reach with ``matrix @ x <= limit``,
    ``x >= 0``: every bound here is such an LP, told apart by its rows."""
    result = linprog(-gain, A_ub=matrix, b_ub=limit, bounds=(0, None), method=method)
    if result.status != HIGHS_OPTIMAL:
        raise RuntimeError(f"the {bound} bound's LP did not solve: {result.message}")
    return float(-result.fun)


EXACT_CELLS = 20_000
"""Arrivals x units up to which :func:`reported_bound` solves the exact model (a test's or a
small what-if's year); beyond it the exact model has millions of columns."""
BLOCKED_CELLS = 2_000_000
"""Arrivals x units up to which it solves the blocked LP: the demo year (0.34 million)
takes seconds, but the region's (15 million) took more than 20 CPU minutes (its LP is
one large connected part), against about a second for the capacity bound."""


def reported_bound(
    world: World, arrivals: tuple[Arrival, ...], lives: Mapping[str, Life], days: int
) -> Hindsight:
    """The bound a run is measured against: the proven optimum where the exact model is
    small enough, else :func:`blocked_bound` where that is, else :func:`capacity_bound`."""
    cells = len(arrivals) * len(world.units)
    if cells <= EXACT_CELLS:
        exact = exact_optimum(world, arrivals, lives, days, time_limit_s=60.0)
        if exact.exact:
            return exact
    if cells <= BLOCKED_CELLS:
        return blocked_bound(world, arrivals, lives, days)
    return capacity_bound(world, arrivals, lives, days)
