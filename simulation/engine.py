"""The discrete-event loop: referrals arrive and withdraw, units and options come free
and close, and at its moments a policy decides who goes where.

Time is in hours. A policy that acts on events (``every_hours`` None) is asked after
every hour in which something arrived or came free; a batch policy only every
``every_hours`` hours. A policy sees only the present and the past (non-anticipative):
who is waiting, what is free now, and who has arrived so far. The loop refuses a
decision that gives a unit or option that is not free, or a pair the rules forbid:
a policy cannot break the rules, and :mod:`simulation.checker` checks the history
again independently.
"""

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from optimiser.unit_table import IntArray
from simulation.arrivals import Arrival, draw_arrivals
from simulation.fits import Fits
from simulation.history import History, Stay
from simulation.service import HOURS, life
from simulation.world import World

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Decision:
    household_id: str
    unit_row: int | None = None
    option_row: int | None = None


@dataclass(frozen=True, slots=True)
class Moment:
    """What a policy may know when it decides."""

    hour: int
    world: World
    waiting: tuple[Arrival, ...]
    """Waiting households with something free they may have, in referral order."""
    units: tuple[IntArray, ...]
    """Per waiting household: rows of the world's table free now that it may have."""
    options: tuple[IntArray, ...]
    """Per waiting household: rows of free rehousing options its perpetrator may have
    (none for a policy that does not see them)."""
    arrived: Sequence[Arrival]
    """Every referral so far, in order (what a policy may learn from)."""

    @property
    def day(self) -> date:
        return self.world.start + timedelta(days=self.hour // HOURS)


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def every_hours(self) -> int | None:
        """None: asked after every change; else every this many hours."""

    @property
    def sees_options(self) -> bool:
        """Whether it is shown free rehousing options: if not, it is asked only about
        households with a unit free that they may have (one whom only an option fits
        would otherwise be asked about at every change, all year)."""

    def choose(self, moment: Moment) -> Sequence[Decision]: ...


ARRIVE, LEAVE, UNIT_FREE, UNIT_CLOSE, UNIT_OPEN, OPTION_FREE, TICK = range(7)


class _Run:
    def __init__(self, world: World, policy: Policy, seed: int, days: int) -> None:
        self.world, self.policy, self.seed, self.days = world, policy, seed, days
        self.horizon = days * HOURS
        self.fits = Fits(world)
        self.arrivals = draw_arrivals(world, seed, days)
        self.lives = {
            u.id: life(u, seed, days, world.rates.closures_per_unit_year) for u in world.units
        }
        n = len(world.units)
        self.free = np.zeros(n, dtype=np.bool_)
        self.closed = np.zeros(n, dtype=np.bool_)
        self.option_free = np.ones(len(world.rehousing_options), dtype=np.bool_)
        self.waiting: dict[int, None] = {}
        """Arrival indices waiting, in referral order (dicts keep insertion order)."""
        self.stays: list[Stay] = []
        self.events: list[tuple[int, int, int]] = []
        for i, a in enumerate(self.arrivals):
            self.push(a.at, ARRIVE, i)
            self.push(a.leaves, LEAVE, i)
        for row, unit in enumerate(world.units):
            lf = self.lives[unit.id]
            self.push(lf.free_from, UNIT_FREE, row)
            for start, end in lf.closures:
                self.push(start, UNIT_CLOSE, row)
                self.push(end, UNIT_OPEN, row)
        if policy.every_hours is not None:
            for hour in range(0, self.horizon, policy.every_hours):
                self.push(hour, TICK, 0)
        self.hopeful: set[int] = set()
        """Waiting households that had something free they may have at the last decision."""
        self.new_arrivals: list[int] = []
        self.new_units: set[int] = set()
        self.new_options: set[int] = set()
        """What arrived or came free since the last decision (all anyone else may gain)."""
        self.by_id = {a.household.id: i for i, a in enumerate(self.arrivals)}
        self.templates = np.array([a.template for a in self.arrivals], dtype=np.int64)
        self.arrived = 0

    def push(self, hour: int, kind: int, what: int) -> None:
        if hour < self.horizon:
            heapq.heappush(self.events, (hour, kind, what))

    def run(self, progress: Progress | None) -> History:
        reported = -1
        while self.events:
            hour = self.events[0][0]
            changed = ticked = False
            while self.events and self.events[0][0] == hour:
                _, kind, what = heapq.heappop(self.events)
                changed |= self.apply(kind, what)
                ticked |= kind == TICK
            if ticked or (changed and self.policy.every_hours is None):
                self.decide(hour)
            if progress is not None and hour // HOURS > reported:
                reported = hour // HOURS
                progress(reported / self.days)
        if progress is not None:
            progress(1.0)
        return History(
            policy=self.policy.name,
            seed=self.seed,
            days=self.days,
            arrivals=self.arrivals,
            stays=tuple(self.stays),
            lives=self.lives,
        )

    def apply(self, kind: int, what: int) -> bool:
        """Apply one event; whether it may have made a new placement possible."""
        if kind == ARRIVE:
            self.waiting[what] = None
            self.new_arrivals.append(what)
            self.arrived = what + 1
        elif kind == LEAVE:
            self.waiting.pop(what, None)
            return False
        elif kind == UNIT_FREE:
            self.free[what] = True
            self.new_units.add(what)
        elif kind == UNIT_CLOSE:
            self.closed[what] = True
            return False
        elif kind == UNIT_OPEN:
            self.closed[what] = False
            self.new_units.add(what)
        elif kind == OPTION_FREE:
            self.option_free[what] = True
            self.new_options.add(what)
        return True

    def decide(self, hour: int) -> None:
        placeable = np.flatnonzero(self.free & ~self.closed)
        free_options = np.flatnonzero(self.option_free & self.policy.sees_options)
        cases = self._cases(placeable, free_options)
        self.new_arrivals, self.new_units, self.new_options = [], set(), set()
        self.hopeful = set()
        if len(cases) == 0:
            return
        alike, of = np.unique(self.templates[cases], return_inverse=True)
        unit_fit, option_fit = self.fits.matrices(alike, placeable, free_options)
        fitting = np.asarray(unit_fit.any(axis=1) | option_fit.any(axis=1))
        some = np.flatnonzero(fitting[of])
        if len(some) == 0:
            return
        kinds = np.unique(of[some]).tolist()
        unit_rows = {k: placeable[unit_fit[k]] for k in kinds}
        option_rows = {k: free_options[option_fit[k]] for k in kinds}
        waiting = [self.arrivals[int(i)] for i in cases[some]]
        self.hopeful = set(cases[some].tolist())
        moment = Moment(
            hour,
            self.world,
            tuple(waiting),
            tuple(unit_rows[k] for k in of[some].tolist()),
            tuple(option_rows[k] for k in of[some].tolist()),
            self.arrivals[: self.arrived],
        )
        for decision in self.policy.choose(moment):
            self.book(hour, decision)

    def _cases(self, placeable: IntArray, free_options: IntArray) -> IntArray:
        """Waiting households that may have something free now, in referral order.

        A household that had nothing it may have at the last decision can since have
        gained only what came free since; so only the new arrivals, the hopeful and those
        that fit something new are asked of everything free (the event loop decides
        thousands of times a year over thousands of waiting and free)."""
        if not self.waiting or (len(placeable) == 0 and len(free_options) == 0):
            return np.zeros(0, dtype=np.int64)
        known = {i for i in self.hopeful if i in self.waiting}
        known.update(i for i in self.new_arrivals if i in self.waiting)
        rest = np.array([i for i in self.waiting if i not in known], dtype=np.int64)
        units = np.array(sorted(r for r in self.new_units if self.free[r] and not self.closed[r]))
        options = np.array(
            sorted(r for r in self.new_options if self.option_free[r])
            if self.policy.sees_options
            else []
        )
        if len(rest) and (len(units) or len(options)):
            alike, of = np.unique(self.templates[rest], return_inverse=True)
            unit_fit, option_fit = self.fits.matrices(
                alike, units.astype(np.int64), options.astype(np.int64)
            )
            fitting = np.asarray(unit_fit.any(axis=1) | option_fit.any(axis=1))
            known.update(rest[fitting[of]].tolist())
        return np.array(sorted(known), dtype=np.int64)

    def book(self, hour: int, d: Decision) -> None:
        i = self.by_id.get(d.household_id)
        if i is None or i not in self.waiting:
            raise ValueError(f"{self.policy.name}: {d.household_id} is not waiting")
        arrival = self.arrivals[i]
        if (d.unit_row is None) == (d.option_row is None):
            raise ValueError(f"{self.policy.name}: a decision names a unit or an option")
        if d.unit_row is not None:
            row = d.unit_row
            if not (
                self.free[row] and not self.closed[row] and self.fits.units(arrival.template)[row]
            ):
                raise ValueError(
                    f"{self.policy.name}: unit row {row} is not free for {d.household_id}"
                )
            unit = self.world.units[row]
            end = hour + arrival.stay_hours(unit.scheme_type)
            self.free[row] = False
            self.push(end, UNIT_FREE, row)
            self.stays.append(Stay(arrival.household.id, unit.id, None, hour, end))
        else:
            row = d.option_row  # type: ignore[assignment]
            if not (self.option_free[row] and self.fits.options(arrival.template)[row]):
                raise ValueError(
                    f"{self.policy.name}: option row {row} is not free for {d.household_id}"
                )
            end = hour + arrival.tenancy_days * HOURS
            self.option_free[row] = False
            self.push(end, OPTION_FREE, row)
            option = self.world.rehousing_options[row]
            self.stays.append(Stay(arrival.household.id, None, option.id, hour, end))
        del self.waiting[i]


def run(
    world: World, policy: Policy, seed: int, days: int, progress: Progress | None = None
) -> History:
    """Simulate ``days`` days under ``policy``; deterministic for ``seed``."""
    if days < 1:
        raise ValueError("days must be 1 or more")
    return _Run(world, policy, seed, days).run(progress)
