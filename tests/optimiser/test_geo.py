import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.geo import (
    FloatArray,
    distance_km,
    distances_km,
    to_radians,
    unit_vectors,
    within_km,
)
from optimiser.problem import Point
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
    want = [km(MANCHESTER, Point(a, b)) for a, b in zip(lats, lons, strict=True)]
    assert got == pytest.approx(want, rel=1e-12)


UK_LAT = st.floats(49.0, 61.0, allow_nan=False)
UK_LON = st.floats(-8.7, 2.0, allow_nan=False)


def _table(points: list[Point]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    lat, lon, cos_lat = to_radians(
        np.array([p.lat for p in points]), np.array([p.lon for p in points])
    )
    return unit_vectors(lat, lon, cos_lat), lat, lon, cos_lat


@settings(max_examples=500, deadline=None)
@given(
    st.builds(Point, UK_LAT, UK_LON),
    st.lists(st.builds(Point, UK_LAT, UK_LON), min_size=1, max_size=30),
    st.floats(0.0, 500.0, allow_nan=False),
    st.sampled_from([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6]),
)
def test_the_dot_product_zone_test_decides_as_the_haversine_does(
    centre: Point, points: list[Point], radius: float, nudge: float
) -> None:
    vectors, lat, lon, cos_lat = _table(points)
    exact = distances_km(centre, lat, lon, cos_lat)
    for r in (radius, float(exact[0]) + nudge):
        r = max(r, 0.0)
        inside = within_km(centre, r, vectors, lat, lon, cos_lat)
        assert inside.tolist() == (exact <= r).tolist()


def test_a_point_exactly_on_the_radius_is_inside() -> None:
    centre, edge = Point(53.48, -2.24), Point(53.41, -2.16)
    vectors, lat, lon, cos_lat = _table([edge, centre])
    radius = float(distances_km(centre, lat, lon, cos_lat)[0])
    assert within_km(centre, radius, vectors, lat, lon, cos_lat).tolist() == [True, True]
    assert within_km(centre, 0.0, vectors, lat, lon, cos_lat).tolist() == [False, True]
    assert within_km(centre, radius - 1e-9, vectors, lat, lon, cos_lat).tolist() == [False, True]
