import numpy as np
import pytest

from optimiser.geo import distance_km, distances_km, to_radians
from tests.optimiser.builders import LEEDS, MANCHESTER
from tests.optimiser.checker import km


def test_known_distance_and_symmetry() -> None:
    assert distance_km(MANCHESTER, LEEDS) == pytest.approx(58.0, abs=1.0)
    assert distance_km(MANCHESTER, LEEDS) == pytest.approx(distance_km(LEEDS, MANCHESTER))
    assert distance_km(MANCHESTER, MANCHESTER) == 0.0


def test_vectorised_matches_plain_formula() -> None:
    lats = np.array([50.0, 53.4, 55.9, -33.9])
    lons = np.array([-5.0, -2.2, -3.2, 151.2])
    got = distances_km(MANCHESTER, *to_radians(lats, lons))
    from optimiser.problem import Point

    want = [km(MANCHESTER, Point(a, b)) for a, b in zip(lats, lons, strict=True)]
    assert got == pytest.approx(want, rel=1e-12)
