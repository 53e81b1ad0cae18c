"""What a run achieved, in the terms commissioners ask about.

Per run: households placed (into a unit or by moving the perpetrator) and
priority-weighted placed (the optimiser's priority at referral); time from referral to
placement, median and 90th percentile in days, overall and for the groups that wait
longest (no recourse to public funds, wheelchair users, large families of four or more
children, households with a boy over 12); unmet need by reason; occupancy (share of
unit-hours occupied); cross-border placements; perpetrator moves.

Unmet reasons: ``no_suitable_unit`` (no unit of the registry, and no rehousing option,
meets every rule for the household: waiting could never have helped),
``withdrew_waiting`` (suitable units exist but none was given before the household
withdrew), ``waiting_at_end`` (still waiting when the run ended).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimiser.composition import composition
from optimiser.priority import PRIORITY_SCALE, priority_points
from optimiser.problem import Household
from simulation.fits import Fits
from simulation.history import History
from simulation.service import HOURS
from simulation.world import World

BOY_AGE = 12
LARGE_FAMILY = 4


def _wheelchair(h: Household) -> bool:
    return "wheelchair" in composition(h).access_needs


def _large(h: Household) -> bool:
    return composition(h).children >= LARGE_FAMILY


def _boy(h: Household) -> bool:
    return composition(h).oldest_boy > BOY_AGE


def _nrpf(h: Household) -> bool:
    return h.nrpf


GROUPS: dict[str, Callable[[Household], bool]] = {
    "all": lambda h: True,
    "nrpf": _nrpf,
    "wheelchair": _wheelchair,
    "large_family": _large,
    "boy_over_12": _boy,
}
UNMET_REASONS = ("no_suitable_unit", "withdrew_waiting", "waiting_at_end")


@dataclass(frozen=True, slots=True)
class Waits:
    referred: int
    placed: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True, slots=True)
class Metrics:
    policy: str
    seed: int
    referred: int
    placed: int
    weighted_placed: float
    waits: dict[str, Waits]
    unmet: dict[str, int]
    occupancy: float
    cross_border: int
    perpetrator_moves: int


def measure(world: World, history: History) -> Metrics:
    arrivals = {a.household.id: a for a in history.arrivals}
    placed = {s.household_id: s for s in history.stays}
    units = {u.id: u for u in world.units}
    fits = Fits(world)
    weighted = (
        sum(priority_points(arrivals[h].household, world.weights) for h in placed) / PRIORITY_SCALE
    )
    waits = {}
    for name, member in GROUPS.items():
        of_template: dict[int, bool] = {}  # arrivals of one household of the mix are alike
        for a in history.arrivals:
            if a.template not in of_template:
                of_template[a.template] = member(a.household)
        group = [a for a in history.arrivals if of_template[a.template]]
        days = [
            (placed[a.household.id].start - a.at) / HOURS for a in group if a.household.id in placed
        ]
        waits[name] = Waits(
            len(group),
            len(days),
            float(np.median(days)) if days else None,
            float(np.percentile(days, 90)) if days else None,
        )
    unmet = dict.fromkeys(UNMET_REASONS, 0)
    for a in history.arrivals:
        if a.household.id in placed:
            continue
        if not fits.units(a.template).any() and not fits.options(a.template).any():
            unmet["no_suitable_unit"] += 1
        elif a.leaves < history.horizon:
            unmet["withdrew_waiting"] += 1
        else:
            unmet["waiting_at_end"] += 1
    occupied = sum(
        min(s.end, history.horizon) - s.start for s in history.stays if s.unit_id is not None
    )
    occupied += sum(max(0, min(lf.free_from, history.horizon)) for lf in history.lives.values())
    cross = sum(
        1
        for s in history.stays
        if s.unit_id is not None
        and units[s.unit_id].authority_code != arrivals[s.household_id].household.authority_code
    )
    return Metrics(
        policy=history.policy,
        seed=history.seed,
        referred=len(history.arrivals),
        placed=len(placed),
        weighted_placed=weighted,
        waits=waits,
        unmet=unmet,
        occupancy=occupied / (len(world.units) * history.horizon) if world.units else 0.0,
        cross_border=cross,
        perpetrator_moves=sum(1 for s in history.stays if s.option_id is not None),
    )
