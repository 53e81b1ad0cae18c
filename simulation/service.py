"""Units coming free at the start and closing to new admissions during the year.

Each unit's schedule is drawn from its own stream, seeded by the run's seed and the
unit's id, so adding or removing a unit in a what-if leaves every other unit's schedule
as it was (common random numbers). Times are hours from the start, on whole days.

A closure stops new admissions (staffing, decoration, repairs between stays); a
household already in the unit stays. At the start a unit is occupied with the
calibration's occupancy, for a remaining stay drawn uniformly up to its type's mean.
"""

import zlib
from dataclasses import dataclass

import numpy as np

from optimiser.problem import Unit
from simulation.calibration import CLOSURE_DAYS, MEAN_STAY_DAYS, OCCUPANCY

HOURS = 24


@dataclass(frozen=True, slots=True)
class Life:
    free_from: int
    """Hour the unit is first free (0: free at the start)."""
    closures: tuple[tuple[int, int], ...]
    """Half-open hour intervals closed to new admissions, in order, not overlapping."""

    def open_at(self, hour: int) -> bool:
        return not any(start <= hour < end for start, end in self.closures)


def stream(seed: int, key: str) -> np.random.Generator:
    """A generator of its own for ``key`` within run ``seed``."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def life(unit: Unit, seed: int, days: int, closures_per_year: float) -> Life:
    rng = stream(seed, "unit/" + unit.id)
    occupied = rng.random() < OCCUPANCY
    remaining = int(rng.integers(1, MEAN_STAY_DAYS[unit.scheme_type] + 1))
    closures: list[tuple[int, int]] = []
    count = rng.poisson(closures_per_year * days / 365)
    at = 0
    for start in sorted(int(d) for d in rng.integers(0, days, count)):
        length = int(rng.integers(CLOSURE_DAYS[0], CLOSURE_DAYS[1] + 1))
        if closures and start <= at:
            continue  # a closure starting before the last one ends is part of it
        closures.append((start * HOURS, (start + length) * HOURS))
        at = start + length
    return Life(remaining * HOURS if occupied else 0, tuple(closures))
