"""The example requests the API docs show: bodies a person would write, that the API takes.

Each is what the OpenAPI document shows on its operation's request body, so the docs'
"try it" starts from a valid request; `tests/api/test_wire_contract.py` decodes every
one strictly against its type.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import RequestEncodingType
from litestar.openapi.spec import Example
from litestar.params import Body


def example_body(summary: str, value: dict[str, Any]) -> Any:
    """A JSON request body documented with one example (for `Annotated[Type, ...]`)."""
    return Body(
        media_type=RequestEncodingType.JSON, examples=[Example(summary=summary, value=value)]
    )


AUTHORITY = {
    "code": "E08000003",
    "name": "Manchester",
    "region": "North West",
    "group_name": "Greater Manchester",
    "latitude": 53.4794,
    "longitude": -2.2453,
}
PROVIDER = {"name": "Northern Refuges", "specialisms": ["by_and_for"]}
SCHEME = {
    "provider_id": "5f0c8c1e-2b7a-4d8e-9a53-2f1d0c6b7a10",
    "authority_code": "E08000003",
    "name": "Fallowfield House",
    "scheme_type": "refuge",
    "address": "12 Example Road, Fallowfield, Manchester",
    "postcode": "M14 6AB",
    "latitude": 53.444,
    "longitude": -2.219,
    "gender_policy": "women_only",
    "max_risk_level": "high",
    "max_boy_age": 14,
    "accepts_nrpf": True,
    "languages": ["ur", "pa"],
    "support": ["mental_health"],
    "weekly_cost": 520.0,
}
UNIT = {
    "scheme_id": "0b6f3a52-6c1e-4f7e-8d3b-9a2c4e5f6a71",
    "label": "Flat 2",
    "bedrooms": 2,
    "bed_spaces": 3,
    "cots": 1,
    "access_features": ["step_free"],
    "status": "available",
}
UNIT_CHANGE = {"version": 3, "status": "out_of_service"}
PROTOCOL = {
    "name": "GM cross-border protocol",
    "kind": "group",
    "funding": "placing_authority",
    "members": ["E08000003", "E08000007"],
    "starts_on": "2025-04-01",
    "notice_days": 2,
    "balance_cap": 5,
}
REHOUSING = {
    "authority_code": "E08000003",
    "name": "Ardwick Lodge",
    "address": "3 Sample Street, Ardwick, Manchester",
    "postcode": "M13 9PL",
    "latitude": 53.4668,
    "longitude": -2.2339,
    "max_risk_level": "medium",
    "accepts_conditions": ["dvpo", "bail"],
    "bed_spaces": 1,
    "weekly_cost": 180.0,
}
KEY = {
    "name": "Manchester housing options team",
    "role": "housing_officer",
    "authority_code": "E08000003",
}
REFERRAL = {
    "reference": "MAN-2026-00042",
    "risk_level": "high",
    "marac": True,
    "household": {
        "members": [{"age": 31, "gender": "female"}, {"age": 9, "gender": "male"}],
        "languages": ["ur"],
        "perpetrator_locations": [{"latitude": 53.8008, "longitude": -1.5491, "radius_km": 20}],
    },
}
PERPETRATOR_LINK = {
    "perpetrator_ref": "MAN-P-0193",
    "partner_authority_code": "E08000007",
    "partner_perpetrator_ref": "STK/PERP/2211",
}
