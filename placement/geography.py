"""Real English geography: local authorities, postcode districts, and England's outline.

The data files in `placement/geodata/` are open data (see SOURCES.md there for licences
and attribution). They are loaded once per process and kept in memory: they are small
(under 1 MB) and read on the hot path of validation and matching.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

ENGLISH_REGIONS = frozenset(
    {
        "North East",
        "North West",
        "Yorkshire and The Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "South East",
        "South West",
    }
)
# The generalised (500 m) boundaries are clipped to the coast; allow this much slack so a
# seafront refuge is not rejected as "outside England".
ENGLAND_TOLERANCE_KM = 2.0
EARTH_RADIUS_KM = 6371.0088

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_OUTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


@dataclass(frozen=True, slots=True)
class LocalAuthority:
    code: str
    name: str
    region: str
    group_name: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class District:
    """A postcode district (outward code) with its centroid."""

    outcode: str
    latitude: float
    longitude: float
    uk_region: str
    authority_code: str | None
    households: int

    @property
    def in_england(self) -> bool:
        return self.uk_region in ENGLISH_REGIONS


def _open(name: str):  # type: ignore[no-untyped-def]
    return resources.files("placement").joinpath("geodata", name).open(encoding="utf-8")


@cache
def local_authorities() -> dict[str, LocalAuthority]:
    """All current English lower-tier and unitary authorities by ONS code."""
    with _open("england_local_authorities.csv") as handle:
        return {
            row["lad_code"]: LocalAuthority(
                code=row["lad_code"],
                name=row["name"],
                region=row["region"],
                group_name=row["combined_authority_name"] or None,
                latitude=float(row["lat"]),
                longitude=float(row["long"]),
            )
            for row in csv.DictReader(handle)
        }


@cache
def districts() -> dict[str, District]:
    """Live postcode districts across the UK by outward code."""
    with _open("postcode_districts.csv") as handle:
        return {
            row["outcode"]: District(
                outcode=row["outcode"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                uk_region=row["uk_region"],
                authority_code=row["lad24cd_at_centroid"] or None,
                households=int(row["households"] or 0),
            )
            for row in csv.DictReader(handle)
            if int(row["active_postcodes"] or 0) > 0 and row["non_geographic"] != "1"
        }


@cache
def _boundaries() -> tuple[STRtree, tuple[str, ...], tuple[BaseGeometry, ...]]:
    with _open("england_lad_2024_buc.geojson") as handle:
        features = json.load(handle)["features"]
    geometries = tuple(shape(f["geometry"]) for f in features)
    codes = tuple(f["properties"]["LAD24CD"] for f in features)
    return STRtree(geometries), codes, geometries


def authority_at(latitude: float, longitude: float) -> str | None:
    """The English authority whose (generalised) boundary holds the point, or None."""
    tree, codes, geometries = _boundaries()
    point = Point(longitude, latitude)
    hits = tree.query(point, predicate="intersects")
    if len(hits):
        return codes[int(min(hits))]
    nearest = tree.nearest(point)
    tolerance_deg = ENGLAND_TOLERANCE_KM / 111.0
    if nearest is not None and geometries[int(nearest)].distance(point) <= tolerance_deg:
        return codes[int(nearest)]
    return None


def in_england(latitude: float, longitude: float) -> bool:
    return authority_at(latitude, longitude) is not None


def normalise_postcode(raw: str) -> str | None:
    """'m1 1ae' -> 'M1 1AE'; None when it is not shaped like a UK postcode."""
    compact = re.sub(r"\s+", "", raw.upper())
    if len(compact) < 5:
        return None
    match = _POSTCODE.match(f"{compact[:-3]} {compact[-3:]}")
    return f"{match.group(1)} {match.group(2)}" if match else None


def outcode_of(postcode: str) -> str:
    return postcode.split(" ")[0]


def is_outcode(value: str) -> bool:
    return bool(_OUTCODE.match(value))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; what DESIGN.md section 8 means by distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def within_authority(code: str, latitude: float, longitude: float) -> bool:
    """The point lies in authority `code`, allowing for the boundaries' 500 m generalisation."""
    _tree, codes, geometries = _boundaries()
    if code not in codes:
        return False
    boundary = geometries[codes.index(code)]
    return bool(boundary.distance(Point(longitude, latitude)) <= ENGLAND_TOLERANCE_KM / 111.0)
