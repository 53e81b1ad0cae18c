"""Who is placed first: a case's weight in the count of placements."""

from optimiser.composition import composition
from optimiser.enums import RISK_RANK
from optimiser.problem import Household, Weights

PRIORITY_SCALE = 100
"""Priority is counted in hundredths, so that it is an exact integer for the solvers."""
WAITING_CAP_DAYS = 365


def priority_points(household: Household, weights: Weights) -> int:
    """1, plus risk steps, children and weeks waited (up to a year), each weighted.

    Rounded to hundredths once, here, so that every solver and report adds the same
    integers and comparisons between allocations (with greedy, with the bound) are exact.
    """
    children = composition(household).children
    weeks = min(household.days_waiting, WAITING_CAP_DAYS) / 7.0
    value = (
        1.0
        + weights.priority_risk * RISK_RANK[household.risk_level]
        + weights.priority_children * children
        + weights.priority_waiting * weeks
    )
    return round(value * PRIORITY_SCALE)
