"""The rates a simulated year runs at, and where each comes from.

Published figures (England, 2024-25, MHCLG "Support in domestic abuse safe
accommodation", released 16 Oct 2025):
- 76,850 individuals supported in safe accommodation (adults and children);
- 28,190 households unable to be supported.

The registry (units) and the household mix are the caller's (the CLI takes both from
``fixtures``). From the mix's mean household size, 76,850 individuals are
``76,850 / size`` households supported a year, so the share of households that ask and
are supported is ``supported / (supported + 28,190)``; demand is supply's throughput
divided by that share. Throughput is what the registry turns over: ``units x occupancy
/ mean stay``. The result: as many referrals a day, per unit of the registry, as England
sees per unit of its own.

Assumptions, where no national figure is published (each a constant below):
- mean stays by accommodation type: about 20 weeks in a refuge (no national mean is in
  the sources used here; "From safety to stability" reports refuge stays growing by 50
  days), longer in dispersed and second-stage homes and sanctuary schemes, six weeks in
  other emergency accommodation; stays are whole weeks, log-normal around the mean, and
  one household is as long- or short-staying in every type (one quantile per household);
- patience: a household waits an exponential time, mean three weeks, then withdraws
  (finds another way, stays put, or is lost to the service);
- units close to new admissions (staffing, decoration, repairs) about once every two
  years for one to five weeks, which keeps the 3-6% out-of-service share of the
  fixtures' registry;
- a perpetrator rehoused holds the option for six months.
"""

from dataclasses import dataclass

from optimiser.composition import composition
from optimiser.enums import SchemeType
from optimiser.problem import Household, Unit

INDIVIDUALS_SUPPORTED = 76_850
HOUSEHOLDS_UNSUPPORTED = 28_190
MEAN_STAY_DAYS: dict[str, int] = {
    SchemeType.REFUGE: 140,
    SchemeType.SPECIALIST_SAFE_ACCOMMODATION: 140,
    SchemeType.DISPERSED_ACCOMMODATION: 180,
    SchemeType.SECOND_STAGE_ACCOMMODATION: 270,
    SchemeType.SANCTUARY_SCHEME: 365,
    SchemeType.OTHER_EMERGENCY_ACCOMMODATION: 42,
}
STAY_SPREAD = 0.5
"""Log-normal sigma of a stay around its type's mean."""
OCCUPANCY = 0.9
"""Share of the registry occupied in steady state, for the throughput estimate."""
PATIENCE_MEAN_DAYS = 21.0
CLOSURES_PER_UNIT_YEAR = 0.5
CLOSURE_DAYS = (7, 35)
PERPETRATOR_TENANCY_DAYS = 182


@dataclass(frozen=True, slots=True)
class Rates:
    """What the arrival and service processes draw from."""

    arrivals_per_day: float
    patience_mean_days: float = PATIENCE_MEAN_DAYS
    closures_per_unit_year: float = CLOSURES_PER_UNIT_YEAR
    supported_share: float = 0.0
    """The published share of households asking that are supported (for the report)."""


def supported_share(mix: tuple[Household, ...]) -> float:
    """Households supported / households asking, from the published figures and the
    mix's mean household size (people per household)."""
    size = sum(composition(h).size for h in mix) / len(mix)
    supported = INDIVIDUALS_SUPPORTED / size
    return supported / (supported + HOUSEHOLDS_UNSUPPORTED)


def calibrate(units: tuple[Unit, ...], mix: tuple[Household, ...]) -> Rates:
    """Arrivals a day for this registry and household mix, as England's ratio of demand
    to supply has it."""
    if not units or not mix:
        raise ValueError("a registry and a household mix are needed to calibrate")
    mean_stay = sum(MEAN_STAY_DAYS[u.scheme_type] for u in units) / len(units)
    throughput = len(units) * OCCUPANCY / mean_stay
    share = supported_share(mix)
    return Rates(arrivals_per_day=throughput / share, supported_share=share)
