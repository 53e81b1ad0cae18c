"""What a simulated run leaves behind: its arrivals, stays and units' schedules.

Plain records, so that the checker (:mod:`simulation.checker`) and the metrics
(:mod:`simulation.metrics`) read a run without knowing how it was made.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from simulation.arrivals import Arrival
from simulation.service import Life


@dataclass(frozen=True, slots=True)
class Stay:
    """A household in a unit, or its perpetrator in a rehousing option, over hours
    ``[start, end)``."""

    household_id: str
    unit_id: str | None
    option_id: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class History:
    policy: str
    seed: int
    days: int
    arrivals: tuple[Arrival, ...]
    stays: tuple[Stay, ...]
    lives: Mapping[str, Life]
    """Per unit id."""

    @property
    def horizon(self) -> int:
        return self.days * 24
