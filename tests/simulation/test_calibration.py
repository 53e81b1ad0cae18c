"""Calibration: demand is the registry's turnover over the published supported share."""

import pytest

from optimiser.problem import Member
from simulation.calibration import (
    HOUSEHOLDS_UNSUPPORTED,
    INDIVIDUALS_SUPPORTED,
    MEAN_STAY_DAYS,
    OCCUPANCY,
    calibrate,
    supported_share,
)
from tests.simulation.worlds import household, unit


def test_the_share_supported_follows_the_published_figures_and_household_size() -> None:
    alone = (household(),)
    with_children = (household(members=(Member(30, "female"), Member(5, "male"))),)
    assert supported_share(alone) == pytest.approx(
        INDIVIDUALS_SUPPORTED / (INDIVIDUALS_SUPPORTED + HOUSEHOLDS_UNSUPPORTED)
    )
    # bigger households: fewer households in the same number of individuals
    assert supported_share(with_children) < supported_share(alone)


def test_arrivals_are_turnover_over_the_supported_share() -> None:
    units = (unit(), unit("u2", scheme_type="second_stage_accommodation"))
    mix = (household(),)
    mean = (MEAN_STAY_DAYS["refuge"] + MEAN_STAY_DAYS["second_stage_accommodation"]) / 2
    rates = calibrate(units, mix)
    assert rates.arrivals_per_day == pytest.approx(2 * OCCUPANCY / mean / supported_share(mix))


def test_nothing_to_calibrate_on_is_refused() -> None:
    with pytest.raises(ValueError, match="registry"):
        calibrate((), (household(),))
