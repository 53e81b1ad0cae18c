"""Policies side by side over several seeds, each against the hindsight bound.

A seed fixes the arrivals and every unit's schedule, so within a seed every policy
faces the same year (common random numbers) and the bound, which depends only on the
year, is computed once per seed. Figures are means over seeds, rounded as people read
them.
"""

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simulation.arrivals import draw_arrivals
from simulation.engine import Policy, Progress, run
from simulation.hindsight import reported_bound
from simulation.metrics import GROUPS, UNMET_REASONS, Metrics, measure
from simulation.service import life
from simulation.world import World

PolicyFactory = Callable[[], Policy]


@dataclass(frozen=True, slots=True)
class SeedRun:
    metrics: Metrics
    bound: float | None
    seconds: float


def bound_for(world: World, seed: int, days: int) -> float:
    arrivals = draw_arrivals(world, seed, days)
    lives = {u.id: life(u, seed, days, world.rates.closures_per_unit_year) for u in world.units}
    return reported_bound(world, arrivals, lives, days).weighted_placed


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def compare(
    world: World,
    policies: Sequence[Policy],
    seeds: Sequence[int],
    days: int,
    *,
    hindsight: bool = True,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """One summary per policy, in the order given."""
    steps = len(seeds) * (len(policies) + int(hindsight))
    done = 0

    def step(fraction: float) -> None:
        if progress is not None:
            progress((done + fraction) / steps)

    runs: dict[str, list[SeedRun]] = {p.name: [] for p in policies}
    for seed in seeds:
        bound = None
        if hindsight:
            bound = bound_for(world, seed, days)
            done += 1
            step(0.0)
        for policy in policies:
            start = time.monotonic()
            history = run(world, policy, seed, days, step)
            done += 1
            runs[policy.name].append(
                SeedRun(measure(world, history), bound, time.monotonic() - start)
            )
    fcfs = runs.get("fcfs")
    return [_summary(name, r, fcfs, days) for name, r in runs.items()]


def _summary(
    name: str, runs: list[SeedRun], fcfs: list[SeedRun] | None, days: int
) -> dict[str, Any]:
    weighted = statistics.fmean(r.metrics.weighted_placed for r in runs)
    bound = _mean([r.bound for r in runs])
    gain = None
    if fcfs is not None:
        base = statistics.fmean(r.metrics.weighted_placed for r in fcfs)
        gain = 100 * (weighted - base) / base if base else None
    return {
        "policy": name,
        "days": days,
        "seeds": len(runs),
        "referred": _round(statistics.fmean(r.metrics.referred for r in runs)),
        "placed": _round(statistics.fmean(r.metrics.placed for r in runs)),
        "weighted_placed": _round(weighted),
        "hindsight_bound": _round(bound),
        "ratio": None if not bound else round(weighted / bound, 3),
        "gain_vs_fcfs_pct": _round(gain),
        "time_to_placement_days": {
            group: {
                "median": _round(_mean([r.metrics.waits[group].median_days for r in runs])),
                "p90": _round(_mean([r.metrics.waits[group].p90_days for r in runs])),
                "placed": _round(statistics.fmean(r.metrics.waits[group].placed for r in runs)),
                "referred": _round(statistics.fmean(r.metrics.waits[group].referred for r in runs)),
            }
            for group in GROUPS
        },
        "unmet_by_reason": {
            reason: _round(statistics.fmean(r.metrics.unmet[reason] for r in runs))
            for reason in UNMET_REASONS
        },
        "occupancy": round(statistics.fmean(r.metrics.occupancy for r in runs), 3),
        "cross_border": _round(statistics.fmean(r.metrics.cross_border for r in runs)),
        "perpetrator_moves": _round(statistics.fmean(r.metrics.perpetrator_moves for r in runs)),
        "seconds_per_run": round(statistics.fmean(r.seconds for r in runs), 2),
    }
