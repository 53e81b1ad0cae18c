"""The year's referrals: who arrives when, how long they would wait, how long they stay.

Arrivals are a Poisson process at the calibrated rate, each a household of the mix
drawn uniformly (so arrivals by authority, make-up and needs follow the mix), at a
random hour. Drawn from a stream of the seed alone: a what-if that changes the registry
sees exactly the same arrivals (common random numbers). Each arrival gets a fresh id and
its own perpetrator (keep-apart links between arrivals are not simulated).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from optimiser.problem import Household
from simulation.calibration import MEAN_STAY_DAYS, PERPETRATOR_TENANCY_DAYS, STAY_SPREAD
from simulation.service import HOURS, stream
from simulation.world import World

WEEK = 7


@dataclass(frozen=True, slots=True)
class Arrival:
    household: Household
    template: int
    """Index of the household in the world's mix (households alike are checked once)."""
    at: int
    """Hour referred."""
    leaves: int
    """Hour the household withdraws if not placed by then."""
    stay_days: Mapping[str, int]
    """Days it would stay, per scheme type: whole weeks, at least one."""
    tenancy_days: int
    """Days a perpetrator moved for this case holds the rehousing option."""

    def stay_hours(self, scheme_type: str) -> int:
        return self.stay_days[scheme_type] * HOURS


def _weeks(mean_days: float, z: float) -> int:
    days = mean_days * float(np.exp(STAY_SPREAD * z - STAY_SPREAD**2 / 2))
    return max(1, round(days / WEEK)) * WEEK


def draw_arrivals(world: World, seed: int, days: int) -> tuple[Arrival, ...]:
    """Every arrival of ``days`` days, in time order, deterministic for ``seed``."""
    rng = stream(seed, "arrivals")
    count = int(rng.poisson(world.rates.arrivals_per_day * days))
    hours = np.sort(rng.integers(0, days * HOURS, count))
    templates = rng.integers(0, len(world.mix), count)
    patience = rng.exponential(world.rates.patience_mean_days * HOURS, count)
    quantile = rng.standard_normal(count)
    out = []
    for n in range(count):
        template = int(templates[n])
        z = float(quantile[n])
        ref = f"sim-{n:06d}"
        household = replace(
            world.mix[template],
            id=ref,
            perpetrator_ref=ref if world.mix[template].perpetrator_ref else None,
        )
        out.append(
            Arrival(
                household=household,
                template=template,
                at=int(hours[n]),
                leaves=int(hours[n]) + max(1, int(patience[n])),
                stay_days=MappingProxyType({t: _weeks(m, z) for t, m in MEAN_STAY_DAYS.items()}),
                tenancy_days=PERPETRATOR_TENANCY_DAYS,
            )
        )
    return tuple(out)
