"""How referrals get units: each policy one small class with one method, ``choose``.

- :class:`FirstComeFirstServed`, today's practice: whenever something changes, each
  waiting household in referral order takes its best option free now (ranked by the
  optimiser's options for one household).
- :class:`Batch`, the service's way: every ``every_hours`` hours, one joint allocation
  of everyone waiting over everything free (the real allocator,
  :func:`optimiser.allocate`), optionally holding scarce units back (:class:`HoldBack`)
  and optionally moving perpetrators (``perpetrator_moves``).
- :class:`PricedBatch`, the same rounds net of bid prices (:mod:`simulation.bid_prices`):
  a unit goes to whom the referrals to come make it worth most, learned from the past.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from optimiser.allocation import allocate
from optimiser.candidates import QUALITY_SCALE, build_candidates
from optimiser.composition import composition
from optimiser.options import options_for_household
from optimiser.priority import priority_points
from optimiser.problem import Household, Problem
from optimiser.unit_table import IntArray
from simulation.bid_prices import unit_prices
from simulation.engine import Decision, Moment
from simulation.fits import Fits
from simulation.service import HOURS

HIGHS_OPTIMAL = 0
LEARNING_DAYS = 90
"""How far back the hold-back rule looks to learn how often a need arrives."""
PRICE_EVERY_DAYS = 28
"""How often bid prices are worked out afresh: demand changes slowly, and at national
scale their LP takes a second or two."""

PRICE_TOLERANCE = 0.5
"""Priority points (hundredths) by which a price may exceed a priority and still be met:
a price is often exactly the priority of the households at the margin, whose placement
its LP counts on, and solvers' duals are floats."""


def set_at(hour: int, every_hours: int) -> int:
    """The hour the prices in force at ``hour`` were set: the start of its period of
    ``every_hours``, but in the first period also after a day and after a week, so that
    what the first referrals teach is not ignored for a month."""
    if hour >= every_hours:
        return hour - hour % every_hours
    return max(h for h in (0, HOURS, 7 * HOURS) if h <= hour)


def waited(household: Household, moment: Moment, since: int) -> Household:
    """The household as the matcher should see it now: waiting counts towards priority."""
    return replace(household, days_waiting=(moment.hour - since) // HOURS)


@dataclass(frozen=True, slots=True)
class FirstComeFirstServed:
    name: str = "fcfs"
    every_hours: int | None = None

    @property
    def sees_options(self) -> bool:
        """Households take units only."""
        return False

    def choose(self, moment: Moment) -> Sequence[Decision]:
        w = moment.world
        taken: set[int] = set()
        out = []
        for arrival, rows in zip(moment.waiting, moment.units, strict=True):
            rows = np.array([r for r in rows.tolist() if r not in taken], dtype=np.int64)
            if len(rows) == 0:
                continue
            best = options_for_household(
                w.table.take(rows), arrival.household, w.protocols, w.weights, moment.day, 1
            ).options[0]
            row = w.unit_row[best.unit_id]
            taken.add(row)
            out.append(Decision(arrival.household.id, unit_row=row))
        return out


@dataclass(frozen=True, slots=True)
class HoldBack:
    """Keep free units with ``feature`` for households that need it: as many as such
    households are expected to arrive in ``horizon_days``, learned from the referrals of
    the last :data:`LEARNING_DAYS` days."""

    feature: str = "wheelchair"
    horizon_days: float = 14.0

    def needs(self, household: Household) -> bool:
        return self.feature in composition(household).access_needs

    def keep(self, moment: Moment) -> int:
        since = max(0, moment.hour - LEARNING_DAYS * HOURS)
        recent = [a for a in moment.arrived if a.at >= since]
        if not recent or moment.hour == 0:
            return 0
        rate = sum(self.needs(a.household) for a in recent) / ((moment.hour - since) / HOURS)
        return math.ceil(rate * self.horizon_days)


@dataclass(frozen=True, slots=True)
class Batch:
    every_hours: int = 24
    hold_back: HoldBack | None = None
    perpetrator_moves: bool = False
    time_limit_s: float = 10.0
    name: str = "batch"

    @property
    def sees_options(self) -> bool:
        """Its joint allocation is put to everyone with a unit or an option free."""
        return True

    def choose(self, moment: Moment) -> Sequence[Decision]:
        w = moment.world
        reserved: set[int] = set()
        if self.hold_back is not None:
            scarce = sorted(
                {r for rows in moment.units for r in rows.tolist()}
                & {r for r, u in enumerate(w.units) if self.hold_back.feature in u.access_features}
            )
            reserved = set(scarce[: self.hold_back.keep(moment)])
        everyone = range(len(moment.waiting))
        first = self._allocate(moment, everyone, exclude=reserved, only=None)
        if not reserved or self.hold_back is None:
            return first
        placed = {d.household_id for d in first}
        needing = [
            i
            for i in everyone
            if moment.waiting[i].household.id not in placed
            and self.hold_back.needs(moment.waiting[i].household)
        ]
        return [*first, *self._allocate(moment, needing, exclude=set(), only=reserved)]

    def _allocate(
        self, moment: Moment, cases: Sequence[int], exclude: set[int], only: set[int] | None
    ) -> list[Decision]:
        w = moment.world
        rows: set[int] = set()
        opts: set[int] = set()
        for i in cases:
            rows |= {r for r in moment.units[i].tolist() if r not in exclude}
            if self.perpetrator_moves and only is None:
                opts |= set(moment.options[i].tolist())
        if only is not None:
            rows &= only
        if not rows and not opts:
            return []
        problem = Problem(
            households=tuple(
                waited(moment.waiting[i].household, moment, moment.waiting[i].at) for i in cases
            ),
            units=tuple(w.units[r] for r in sorted(rows)),
            protocols=w.protocols,
            rehousing_options=tuple(w.rehousing_options[r] for r in sorted(opts)),
            weights=w.weights,
            as_of=moment.day,
        )
        result = allocate(problem, self.time_limit_s)
        out = []
        for a in result.assignments:
            if a.kind == "unit" and a.unit_id is not None:
                out.append(Decision(a.household_id, unit_row=w.unit_row[a.unit_id]))
            elif a.kind == "perpetrator_move" and a.option_id is not None:
                out.append(Decision(a.household_id, option_row=w.option_row[a.option_id]))
        return out


@dataclass(frozen=True, slots=True)
class PricedBatch:
    """Batch allocation net of bid prices: every ``every_hours`` hours, the joint
    allocation of everyone waiting over everything free that places the most priority
    net of the units' prices (:mod:`simulation.bid_prices`, ``price_weight`` times),
    quality breaking ties as in the allocator; a household whose priority is below a
    unit's price may not have it.

    So a household with other units it may have takes the one the referrals to come
    want least, and a unit wanted by more than it can take waits for the priority its
    demand makes likely. Prices are learned from the referrals of the last
    ``learning_days`` days, afresh every ``price_every_hours`` hours: the past only.
    """

    every_hours: int = 24
    price_weight: float = 1.0
    learning_days: float = LEARNING_DAYS
    price_every_hours: int = PRICE_EVERY_DAYS * HOURS
    name: str = "batch"
    _memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    """The world's fits and the last prices, as worked out: pure functions of the world
    and of the past, kept so that a round does not redo them."""

    @property
    def sees_options(self) -> bool:
        """Households take units only."""
        return False

    def choose(self, moment: Moment) -> Sequence[Decision]:
        w = moment.world
        prices = self._prices(moment)
        households, free = [], set()
        for arrival, rows in zip(moment.waiting, moment.units, strict=True):
            household = waited(arrival.household, moment, arrival.at)
            room = priority_points(household, w.weights) + PRICE_TOLERANCE
            affordable = rows[self.price_weight * prices[rows] <= room]
            if len(affordable):
                households.append(household)
                free.update(affordable.tolist())
        if not households:
            return []
        problem = Problem(
            households=tuple(households),
            units=tuple(w.units[r] for r in sorted(free)),
            protocols=w.protocols,
            weights=w.weights,
            as_of=moment.day,
        )
        c = build_candidates(problem)
        rows = np.array([w.unit_row[t.unit_ids[0]] for t in c.targets], dtype=np.int64)
        net = c.priority[c.household] - self.price_weight * prices[rows[c.target]]
        keep = np.flatnonzero(net >= -PRICE_TOLERANCE)
        # a placement is worth one point more than its net priority (so the marginal
        # household is placed); quality, summed over everyone, is worth under a point
        value = net[keep] + 1 + c.quality[keep] / (QUALITY_SCALE * (len(c.priority) + 1))
        chosen = most_valuable(c.household[keep], c.target[keep], c.capacity, value)
        out = []
        for target, placed in chosen.items():
            unit_ids = c.targets[target].unit_ids
            for unit_id, h in zip(unit_ids, placed, strict=False):
                out.append(Decision(problem.households[h].id, unit_row=w.unit_row[unit_id]))
        return out

    def _prices(self, moment: Moment) -> np.ndarray:
        w = moment.world
        fits = self._memo.get("fits")
        if not isinstance(fits, Fits) or fits.world is not w:
            fits = self._memo["fits"] = Fits(w)
        start = set_at(moment.hour, self.price_every_hours)
        since = start - int(self.learning_days * HOURS)
        recent = tuple((a.at, a.template) for a in moment.arrived if since <= a.at < start)
        key = (id(w), start, recent)
        if self._memo.get("key") != key:
            self._memo["key"] = key
            self._memo["prices"] = unit_prices(fits, recent, start, self.learning_days)
        prices = self._memo["prices"]
        assert isinstance(prices, np.ndarray)
        return prices


def most_valuable(
    household: IntArray, target: IntArray, capacity: IntArray, value: np.ndarray
) -> dict[int, list[int]]:
    """The most valuable choice of pairs, each household in one at most and each target
    in no more than its capacity, as the households of each target chosen: a
    transportation LP, whose vertices are whole, so HiGHS's simplex answers with one."""
    if len(household) == 0:
        return {}
    people, person_of = np.unique(household, return_inverse=True)
    targets, target_of = np.unique(target, return_inverse=True)
    pairs = np.arange(len(household))
    matrix = sparse.csr_matrix(
        (
            np.ones(2 * len(pairs)),
            (np.concatenate([person_of, len(people) + target_of]), np.concatenate([pairs, pairs])),
        ),
        shape=(len(people) + len(targets), len(pairs)),
    )
    limit = np.concatenate([np.ones(len(people)), capacity[targets]]).astype(float)
    result = linprog(-value, A_ub=matrix, b_ub=limit, bounds=(0, 1), method="highs-ds")
    if result.status != HIGHS_OPTIMAL:
        raise RuntimeError(f"the priced allocation did not solve: {result.message}")
    chosen: dict[int, list[int]] = {}
    for k in np.flatnonzero(result.x > 0.5).tolist():
        chosen.setdefault(int(target[k]), []).append(int(household[k]))
    return chosen


def policy_named(
    name: str, every_hours: int = 24, hold_back: HoldBack | None = None
) -> "FirstComeFirstServed | Batch | PricedBatch":
    """``fcfs``; ``batch``, the priced batch (:class:`PricedBatch`: on the demo, region
    and national years it places more priority than the allocator's plain rounds and
    than first come first served), or the plain rounds when a ``hold_back`` is asked
    for; ``batch-unpriced``, the plain rounds; ``batch+perp``, the plain rounds moving
    perpetrators too."""
    if name == "fcfs":
        return FirstComeFirstServed()
    if name == "batch" and hold_back is None:
        return PricedBatch(every_hours=every_hours)
    if name in ("batch", "batch-unpriced"):
        return Batch(every_hours=every_hours, hold_back=hold_back, name=name)
    if name == "batch+perp":
        return Batch(
            every_hours=every_hours, hold_back=hold_back, perpetrator_moves=True, name=name
        )
    raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}")


POLICIES = ("fcfs", "batch", "batch-unpriced", "batch+perp")
