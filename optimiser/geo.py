"""Great-circle distances, one point against many at once.

Every distance in the optimiser goes through :func:`distances_km`, so that the same pair
of points always gets the same kilometres whichever path asks (a rule and its
explanation never disagree about an edge case).
"""

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from optimiser.problem import Point

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""

BOUNDARY_BAND = 1e-9
"""How close (in the cosine of the angle) a dot product may come to a radius's cosine
before :func:`within_km` asks the haversine instead. Rounding moves a dot product by a
few 1e-16; this band is wider by far, so no decision it leaves to the dot product can
differ from the haversine's, and it holds at most a few metres' ring of units."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def to_radians(lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude and longitude in radians, and the cosine of latitude, kept per unit so that
    each request only pays for the trigonometry of its own point."""
    lat = np.radians(lats)
    return lat, np.radians(lons), np.cos(lat)


def unit_vectors(lat: FloatArray, lon: FloatArray, cos_lat: FloatArray) -> FloatArray:
    """Points (in radians) as unit vectors from the Earth's centre, one row each: the
    angle between two points is the arccosine of their dot product."""
    vectors: FloatArray = np.column_stack(
        (cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat))
    )
    return vectors


def within_km(
    point: Point,
    radius_km: float,
    vectors: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    cos_lat: FloatArray,
) -> BoolArray:
    """Which points lie within ``radius_km`` of ``point`` (exactly on it counts as within),
    decided as :func:`distances_km` would decide it.

    A point is within when the angle to it is at most ``radius / R``: one dot product per
    point against the cosine of that angle, instead of the haversine's trigonometry. Only
    the points in :data:`BOUNDARY_BAND` of the radius are measured exactly.
    """
    plat, plon = math.radians(point.lat), math.radians(point.lon)
    centre = np.array(
        (math.cos(plat) * math.cos(plon), math.cos(plat) * math.sin(plon), math.sin(plat))
    )
    threshold = math.cos(min(radius_km / EARTH_RADIUS_KM, math.pi))
    dot = vectors @ centre
    inside: BoolArray = dot >= threshold
    edge = np.flatnonzero(np.abs(dot - threshold) <= BOUNDARY_BAND)
    if len(edge):
        exact = distances_km(point, lat[edge], lon[edge], cos_lat[edge])
        inside[edge] = exact <= radius_km
    return inside


def distances_km(point: Point, lat: FloatArray, lon: FloatArray, cos_lat: FloatArray) -> FloatArray:
    """Haversine distances from ``point`` to every point given in radians."""
    distance: FloatArray = many_distances_km((point,), lat, lon, cos_lat)[0]
    return distance


def many_distances_km(
    points: Sequence[Point], lat: FloatArray, lon: FloatArray, cos_lat: FloatArray
) -> FloatArray:
    """Haversine distances, a row per point of ``points``, to every point given in radians.

    The same elementwise arithmetic for every row, so a row equals what
    :func:`distances_km` gives for its point; one pass over the rows for all the points
    costs a few small numpy calls instead of a dozen per point.
    """
    plat = np.radians(np.array([p.lat for p in points], dtype=np.float64))[:, np.newaxis]
    plon = np.radians(np.array([p.lon for p in points], dtype=np.float64))[:, np.newaxis]
    a = np.sin((lat - plat) * 0.5) ** 2 + np.cos(plat) * cos_lat * np.sin((lon - plon) * 0.5) ** 2
    distance: FloatArray = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return distance


def distance_km(a: Point, b: Point) -> float:
    """One distance, by the same arithmetic as :func:`distances_km`."""
    lat, lon, cos_lat = to_radians(np.array([b.lat]), np.array([b.lon]))
    return float(distances_km(a, lat, lon, cos_lat)[0])
