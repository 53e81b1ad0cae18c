"""What a simulation runs on: the registry, the household mix and the rates.

Everything here is the optimiser's own records, so the matcher's rules apply unchanged.
Units and rehousing options carry ``available_from`` on or before ``start``: in a
simulation, when a unit is free is the simulation's business (see
:mod:`simulation.service`), so the availability rule never rules a unit out by date.
"""

from dataclasses import dataclass, field, replace
from datetime import date

from optimiser.problem import Household, Protocol, RehousingOption, Unit, Weights
from optimiser.unit_table import UnitTable
from simulation.calibration import Rates, calibrate

DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    units: tuple[Unit, ...]
    protocols: tuple[Protocol, ...]
    rehousing_options: tuple[RehousingOption, ...]
    mix: tuple[Household, ...]
    """Households like those referred: each arrival is one of them, drawn with replacement."""
    rates: Rates
    start: date
    weights: Weights = DEFAULT_WEIGHTS
    table: UnitTable = field(init=False, repr=False, compare=False)
    unit_row: dict[str, int] = field(init=False, repr=False, compare=False)
    option_row: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", UnitTable.from_units(self.units))
        object.__setattr__(self, "unit_row", {u.id: i for i, u in enumerate(self.units)})
        object.__setattr__(
            self, "option_row", {o.id: i for i, o in enumerate(self.rehousing_options)}
        )


def make_world(
    units: tuple[Unit, ...],
    protocols: tuple[Protocol, ...],
    rehousing_options: tuple[RehousingOption, ...],
    mix: tuple[Household, ...],
    start: date,
    weights: Weights = DEFAULT_WEIGHTS,
    rates: Rates | None = None,
) -> World:
    """A world with dates made the simulation's and reciprocal caps lifted (the
    simulation does not keep balances), calibrated unless ``rates`` are given (a
    what-if keeps its baseline's, so that both sides see the same arrivals)."""
    units = tuple(replace(u, available_from=min(u.available_from, start)) for u in units)
    options = tuple(
        replace(o, available_from=min(o.available_from, start)) for o in rehousing_options
    )
    mix = tuple(replace(h, needed_by=start, days_waiting=0) for h in mix)
    protocols = tuple(replace(p, balance_cap=None) for p in protocols)
    return World(
        units=units,
        protocols=protocols,
        rehousing_options=options,
        mix=mix,
        rates=rates or calibrate(units, mix),
        start=start,
        weights=weights,
    )
