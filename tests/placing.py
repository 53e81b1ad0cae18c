"""Helpers for the referral, matching, offer and placement tests.

Bodies with sensible defaults (override what a test varies), calls that assert their
status and return the JSON, and direct row counts in the test's database, so a test can
show that a refused request wrote nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import Select, text
from sqlalchemy.engine import Connection

from placement.config import Settings
from placement.security import SYSTEM
from tests.conftest import API, STOCKPORT, Actors, scheme_body, unit_body, with_connection

# Keys that would carry a location a match, offer or allocation must never show.
LOCATION_KEYS = frozenset(
    {"address", "postcode", "latitude", "longitude", "location", "lat", "lon", "home"}
)
# scheme_a's secret location, as the conftest registers it.
SECRET_TEXT = ("Example Road", "M14 6AB", "53.444", "-2.219")
# Leeds: far from every Manchester and Stockport scheme the tests register.
FAR_PERPETRATOR = {"latitude": 53.80, "longitude": -1.55, "radius_km": 10}
# Where a scheme in Stockport (SK1, the town centre) is: across Manchester's border.
STOCKPORT_SCHEME: dict[str, Any] = {
    "authority_code": STOCKPORT[0],
    "postcode": "SK1 1EB",
    "latitude": 53.4083,
    "longitude": -2.1494,
}


def new_reference(prefix: str = "MAN") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def household(**overrides: Any) -> dict[str, Any]:
    """A woman and her 9-year-old son; the perpetrator is known in Leeds."""
    body: dict[str, Any] = {
        "members": [{"age": 31, "gender": "female"}, {"age": 9, "gender": "male"}],
        "perpetrator_locations": [FAR_PERPETRATOR],
    }
    return body | overrides


def referral_body(
    reference: str | None = None, *, risk_level: str = "high", **household_overrides: Any
) -> dict[str, Any]:
    return {
        "reference": reference or new_reference(),
        "risk_level": risk_level,
        "household": household(**household_overrides),
    }


def create_referral(
    actors: Actors,
    who: str = "officer",
    body: dict[str, Any] | None = None,
    **household_overrides: Any,
) -> dict[str, Any]:
    response = actors.post(who, f"{API}/referrals", body or referral_body(**household_overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def add_scheme(actors: Actors, who: str = "provider_a", **overrides: Any) -> dict[str, Any]:
    provider_id = actors.provider_b if who == "provider_b" else actors.provider_a
    response = actors.post(who, f"{API}/schemes", scheme_body(provider_id, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def add_hatters_court(actors: Actors, **overrides: Any) -> dict[str, Any]:
    """Hatters Court, provider A's refuge in Stockport: the scheme the tests place across
    the border from Manchester in (override what a test varies)."""
    return add_scheme(actors, **({"name": "Hatters Court"} | STOCKPORT_SCHEME | overrides))


def add_unit(
    actors: Actors, scheme_id: str, who: str = "provider_a", **overrides: Any
) -> dict[str, Any]:
    response = actors.post(who, f"{API}/units", unit_body(scheme_id, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def get_unit(actors: Actors, unit_id: str) -> dict[str, Any]:
    response = actors.get("admin", f"{API}/units/{unit_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def unit_status(actors: Actors, unit_id: str) -> str:
    return str(get_unit(actors, unit_id)["status"])


def patch_status(
    actors: Actors, unit_id: str, status: str, who: str = "provider_a"
) -> httpx.Response:
    """Set a unit's status the way a provider does: with the version last read (and a
    reason, for out of service)."""
    version = get_unit(actors, unit_id)["version"]
    body: dict[str, Any] = {"version": version, "status": status}
    if status == "out_of_service":
        body["out_of_service_reason"] = "repairs"
    response: httpx.Response = actors.patch(who, f"{API}/units/{unit_id}", body)
    return response


def offer(actors: Actors, referral_id: str, unit_id: str, who: str = "officer") -> httpx.Response:
    response: httpx.Response = actors.post(
        who, f"{API}/offers", {"referral_id": referral_id, "unit_id": unit_id}
    )
    return response


def make_offer(
    actors: Actors, referral_id: str, unit_id: str, who: str = "officer"
) -> dict[str, Any]:
    response = offer(actors, referral_id, unit_id, who)
    assert response.status_code == 201, response.text
    return dict(response.json())


def get_offer(actors: Actors, offer_id: str, who: str = "officer") -> dict[str, Any]:
    response = actors.get(who, f"{API}/offers/{offer_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def accept(actors: Actors, offer_id: str, who: str = "provider_a") -> dict[str, Any]:
    response = actors.post(who, f"{API}/offers/{offer_id}/accept")
    assert response.status_code == 200, response.text
    return dict(response.json())


def place(actors: Actors, referral_id: str, unit_id: str) -> dict[str, Any]:
    """Offer the unit and have its provider accept; returns the placement."""
    made = make_offer(actors, referral_id, unit_id)
    placement: dict[str, Any] = accept(actors, made["id"])["placement"]
    return placement


def matches(
    actors: Actors, referral_id: str, who: str = "officer", limit: int = 200
) -> dict[str, Any]:
    response = actors.get(who, f"{API}/referrals/{referral_id}/matches", params={"limit": limit})
    assert response.status_code == 200, response.text
    return dict(response.json())


def matched_units(actors: Actors, referral_id: str, who: str = "officer") -> list[str]:
    return [option["unit_id"] for option in matches(actors, referral_id, who)["options"]]


def all_keys(document: Any) -> Iterator[str]:
    """Every key of every object in a JSON document, however deep."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield str(key)
            yield from all_keys(value)
    elif isinstance(document, list):
        for item in document:
            yield from all_keys(item)


def assert_no_location(response: httpx.Response) -> None:
    """No address, postcode or coordinates anywhere in a response, by key or by value."""
    leaked = LOCATION_KEYS & set(all_keys(response.json()))
    assert not leaked, (leaked, response.text)
    for secret in SECRET_TEXT:
        assert secret not in response.text, (secret, response.text)


def row_counts(settings: Settings, *tables: str) -> dict[str, int]:
    """How many rows each table holds, read straight from the database."""

    def count(conn: Connection) -> dict[str, int]:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in tables
        }

    return with_connection(settings.database_url, count)


def settle_reads(actors: Actors) -> None:
    """Wait until the app's read-audit writer has written everything queued so far (the
    decision snapshots of matches ride its batches): one more read put on record through
    it, and batches are written in order. Decided by the writer, not by the clock."""
    runtime = actors.client.app.state.runtime
    actors.client.blocking_portal.call(runtime.reads.record, SYSTEM, "settle", "test", None)


def db_all(settings: Settings, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a SQLAlchemy query against the test's database (either backend)."""

    def run(conn: Connection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in conn.execute(stmt)]

    return with_connection(settings.database_url, run)


def audit_for(actors: Actors, record_type: str, record_id: str) -> list[dict[str, Any]]:
    """Audit events about one record, newest first (read as the admin)."""
    response = actors.get(
        "admin",
        f"{API}/audit",
        params={"record_type": record_type, "record_id": record_id, "limit": 500},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
