"""Checking and sealing the secret location of a scheme or rehousing option."""

from __future__ import annotations

from typing import Any

from placement import geography
from placement.crypto import Cipher
from placement.errors import InvalidInput

LOCATION_FIELDS = ("address", "postcode", "latitude", "longitude")
# Officers see a unit's postcode district, and the matcher measures from the point: the two
# must agree. Generous enough for the largest rural districts.
POSTCODE_MAX_KM = 30.0


def check_location(location: dict[str, Any], authority_code: str) -> dict[str, Any]:
    """Validate a location document; returns it with the postcode normalised.

    The point must be in England and in the stated authority (exclusion zones by
    authority depend on that), and the postcode a real English district near the point.
    """
    postcode = geography.normalise_postcode(location["postcode"])
    if postcode is None:
        raise InvalidInput("postcode", "a full UK postcode, like M14 5AB")
    district = geography.districts().get(geography.outcode_of(postcode))
    if district is None:
        raise InvalidInput("postcode", f"{postcode} is not in a known postcode district")
    if not district.in_england:
        raise InvalidInput("postcode", f"{postcode} is not in England")
    lat, lon = location["latitude"], location["longitude"]
    if not geography.in_england(lat, lon):
        raise InvalidInput("latitude", "the point (latitude, longitude) must lie in England")
    away = geography.haversine_km(lat, lon, district.latitude, district.longitude)
    if away > POSTCODE_MAX_KM:
        raise InvalidInput(
            "postcode",
            f"{postcode} is {away:.0f} km from the point (latitude, longitude); "
            f"at most {POSTCODE_MAX_KM:.0f} km from its district's centre is accepted",
        )
    if not geography.within_authority(authority_code, lat, lon):
        raise InvalidInput(
            "authority_code", f"the point (latitude, longitude) is not in {authority_code}"
        )
    return {**location, "postcode": postcode}


def seal(cipher: Cipher, location: dict[str, Any]) -> bytes:
    return cipher.encrypt_json({name: location[name] for name in LOCATION_FIELDS})


def split_location(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the secret location fields from the rest of a create/update body."""
    location = {k: fields[k] for k in LOCATION_FIELDS if k in fields}
    rest = {k: v for k, v in fields.items() if k not in LOCATION_FIELDS}
    return location, rest
