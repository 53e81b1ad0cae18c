"""Great-circle distances, one point against many at once.

Every distance in the optimiser goes through :func:`distances_km`, so that the same pair
of points always gets the same kilometres whichever path asks (a rule and its
explanation never disagree about an edge case).
"""

import numpy as np
import numpy.typing as npt

from optimiser.problem import Point

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""

FloatArray = npt.NDArray[np.float64]


def to_radians(lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude and longitude in radians, and the cosine of latitude, kept per unit so that
    each request only pays for the trigonometry of its own point."""
    lat = np.radians(lats)
    return lat, np.radians(lons), np.cos(lat)


def distances_km(point: Point, lat: FloatArray, lon: FloatArray, cos_lat: FloatArray) -> FloatArray:
    """Haversine distances from ``point`` to every point given in radians."""
    plat = np.radians(point.lat)
    plon = np.radians(point.lon)
    a = np.sin((lat - plat) * 0.5) ** 2 + np.cos(plat) * cos_lat * np.sin((lon - plon) * 0.5) ** 2
    distance: FloatArray = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return distance


def distance_km(a: Point, b: Point) -> float:
    """One distance, by the same arithmetic as :func:`distances_km`."""
    lat, lon, cos_lat = to_radians(np.array([b.lat]), np.array([b.lon]))
    return float(distances_km(a, lat, lon, cos_lat)[0])
