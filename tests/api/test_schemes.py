"""/api/v1/schemes: CRUD, filters, the secret location (encrypted at rest, audited reads)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select

from placement.crypto import load_cipher
from placement.models import Scheme
from tests.conftest import (
    API,
    MANCHESTER,
    STOCKPORT,
    Actors,
    assert_paginates,
    assert_problem,
    audit_events,
    list_all,
    registry_counts,
    scheme_body,
    with_connection,
)

ADDRESS = "12 Example Road, Fallowfield, Manchester"
STOCKPORT_SCHEME = {
    "authority_code": STOCKPORT[0],
    "name": "Heaton Chapel Refuge",
    "scheme_type": "dispersed_accommodation",
    "address": "7 Test Lane, Stockport",
    "postcode": "sk1 3xe",
    "latitude": 53.4083,
    "longitude": -2.1494,
    "gender_policy": "any_gender",
}


def names(page: dict[str, Any]) -> list[str]:
    return sorted(item["name"] for item in page["items"])


def test_create_returns_the_public_view(actors: Actors) -> None:
    response = actors.post(
        "provider_a",
        f"{API}/schemes",
        scheme_body(actors.provider_a, languages=["ur", "pa", "ur"], support=["mental_health"]),
    )
    assert response.status_code == 201, response.text
    scheme = response.json()
    assert scheme["provider_id"] == actors.provider_a
    assert scheme["authority_code"] == MANCHESTER[0]
    assert scheme["postcode_district"] == "M14"
    assert scheme["languages"] == ["pa", "ur"]
    assert (scheme["gender_policy"], scheme["max_boy_age"]) == ("women_only", 14)
    assert scheme["retired_at"] is None
    for secret in ("address", "postcode", "latitude", "longitude", "location_ciphertext"):
        assert secret not in scheme
    assert "Example Road" not in response.text
    assert "6AB" not in response.text
    [event] = audit_events(actors, record_type="scheme", record_id=scheme["id"])
    assert (event["action"], event["actor_role"]) == ("create", "provider")
    assert "Example Road" not in str(event)  # the audit trail names fields, not secrets


def test_get(actors: Actors, scheme_a: dict[str, Any]) -> None:
    for who in ("admin", "provider_a", "officer", "integration"):
        response = actors.get(who, f"{API}/schemes/{scheme_a['id']}")
        assert response.status_code == 200, (who, response.text)
        assert response.json() == scheme_a


def test_get_unknown_id_is_404(actors: Actors) -> None:
    response = actors.get("admin", f"{API}/schemes/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 404)


@pytest.fixture
def three_schemes(actors: Actors, scheme_a: dict[str, Any]) -> dict[str, str]:
    """Fallowfield House (A, Manchester), Heaton Chapel Refuge (B, Stockport), Moss Side Flats
    (A, Manchester, dispersed, M1); returns name -> id."""
    ids = {scheme_a["name"]: scheme_a["id"]}
    for who, provider, body in (
        ("provider_b", actors.provider_b, STOCKPORT_SCHEME),
        (
            "provider_a",
            actors.provider_a,
            {
                "name": "Moss Side Flats",
                "scheme_type": "dispersed_accommodation",
                "postcode": "M1 1AE",
                "latitude": 53.4794,
                "longitude": -2.2453,
                "gender_policy": "lgbtq_specialist",
            },
        ),
    ):
        response = actors.post(who, f"{API}/schemes", scheme_body(provider, **body))
        assert response.status_code == 201, response.text
        ids[response.json()["name"]] = response.json()["id"]
    return ids


def test_list_paginates(actors: Actors, three_schemes: dict[str, str]) -> None:
    assert_paginates(actors, "officer", f"{API}/schemes", 3)


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"authority_code": MANCHESTER[0]}, ["Fallowfield House", "Moss Side Flats"]),
    ({"authority_code": STOCKPORT[0]}, ["Heaton Chapel Refuge"]),
    ({"scheme_type": "refuge"}, ["Fallowfield House"]),
    ({"scheme_type": "dispersed_accommodation"}, ["Heaton Chapel Refuge", "Moss Side Flats"]),
    ({"scheme_type": "sanctuary_scheme"}, []),
    ({"gender_policy": "lgbtq_specialist"}, ["Moss Side Flats"]),
    ({"gender_policy": "any_gender"}, ["Heaton Chapel Refuge"]),
    ({"postcode_district": "M14"}, ["Fallowfield House"]),
    ({"postcode_district": "SK1"}, ["Heaton Chapel Refuge"]),
    ({"authority_code": MANCHESTER[0], "scheme_type": "refuge"}, ["Fallowfield House"]),
]


def test_list_filters(actors: Actors, three_schemes: dict[str, str]) -> None:
    for params, expected in FILTERS:
        page = list_all(actors, "officer", f"{API}/schemes", **params)
        assert (names(page), page["total"]) == (expected, len(expected)), params
    page = list_all(actors, "admin", f"{API}/schemes", provider_id=actors.provider_b)
    assert names(page) == ["Heaton Chapel Refuge"]


def test_providers_list_only_their_own_schemes(
    actors: Actors, three_schemes: dict[str, str]
) -> None:
    own = list_all(actors, "provider_a", f"{API}/schemes")
    assert names(own) == ["Fallowfield House", "Moss Side Flats"]
    assert own["total"] == 2
    # Asking for the other provider's schemes by filter does not widen the row filter.
    other = list_all(actors, "provider_a", f"{API}/schemes", provider_id=actors.provider_b)
    assert (other["items"], other["total"]) == ([], 0)
    assert names(list_all(actors, "provider_b", f"{API}/schemes")) == ["Heaton Chapel Refuge"]


def test_update_changes_policy(actors: Actors, scheme_a: dict[str, Any]) -> None:
    response = actors.patch(
        "provider_a",
        f"{API}/schemes/{scheme_a['id']}",
        {"max_boy_age": None, "accepts_pets": True, "support": ["complex_needs"]},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["max_boy_age"], updated["accepts_pets"]) == (None, True)
    assert updated["support"] == ["complex_needs"]
    assert updated["name"] == scheme_a["name"]
    assert actors.get("admin", f"{API}/schemes/{scheme_a['id']}").json() == updated
    [event] = audit_events(actors, record_type="scheme", action="update")
    assert event["record_id"] == scheme_a["id"]
    assert event["actor_role"] == "provider"
    assert event["detail"]["fields"] == ["accepts_pets", "max_boy_age", "support"]


def test_update_moves_the_location(actors: Actors, scheme_a: dict[str, Any]) -> None:
    moved = {
        "address": "1 New Street, Manchester",
        "postcode": "M1 1AE",
        "latitude": 53.4794,
        "longitude": -2.2453,
    }
    response = actors.patch("provider_a", f"{API}/schemes/{scheme_a['id']}", moved)
    assert response.status_code == 200, response.text
    assert response.json()["postcode_district"] == "M1"
    location = actors.get("provider_a", f"{API}/schemes/{scheme_a['id']}/location").json()
    assert location == {"scheme_id": scheme_a["id"], **moved}


def test_update_postcode_only_keeps_the_rest_of_the_location(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    response = actors.patch("provider_a", f"{API}/schemes/{scheme_a['id']}", {"postcode": "m20"})
    assert_problem(response, 400, "postcode")  # too short to be a full postcode
    response = actors.patch(
        "provider_a", f"{API}/schemes/{scheme_a['id']}", {"postcode": "m20 2ab"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["postcode_district"] == "M20"
    location = actors.get("provider_a", f"{API}/schemes/{scheme_a['id']}/location").json()
    assert (location["address"], location["postcode"]) == (ADDRESS, "M20 2AB")
    assert (location["latitude"], location["longitude"]) == (53.444, -2.219)


def test_update_to_a_point_outside_the_authority_changes_nothing(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    before = registry_counts(actors)
    response = actors.patch(
        "provider_a",
        f"{API}/schemes/{scheme_a['id']}",
        {"name": "Renamed", "latitude": 53.4083, "longitude": -2.1494},  # Stockport
    )
    assert_problem(response, 422, "authority_code")
    assert actors.get("admin", f"{API}/schemes/{scheme_a['id']}").json() == scheme_a
    location = actors.get("provider_a", f"{API}/schemes/{scheme_a['id']}/location").json()
    assert location["latitude"] == 53.444
    assert registry_counts(actors)["audit"] == before["audit"] + 1  # just the location read


def test_moving_authority_checks_the_point(actors: Actors, scheme_a: dict[str, Any]) -> None:
    response = actors.patch(
        "provider_a", f"{API}/schemes/{scheme_a['id']}", {"authority_code": STOCKPORT[0]}
    )
    assert_problem(response, 422, "authority_code")
    assert actors.get("admin", f"{API}/schemes/{scheme_a['id']}").json() == scheme_a


def test_retire_hides_from_lists_unless_asked(actors: Actors, scheme_a: dict[str, Any]) -> None:
    response = actors.delete("provider_a", f"{API}/schemes/{scheme_a['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert list_all(actors, "officer", f"{API}/schemes")["total"] == 0
    with_retired = list_all(actors, "officer", f"{API}/schemes", include_retired="true")
    assert [s["id"] for s in with_retired["items"]] == [scheme_a["id"]]
    [event] = audit_events(actors, record_type="scheme", action="retire")
    assert (event["record_id"], event["actor_role"]) == (scheme_a["id"], "provider")


def test_provider_reads_own_location_and_the_read_is_audited(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    response = actors.get("provider_a", f"{API}/schemes/{scheme_a['id']}/location")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "scheme_id": scheme_a["id"],
        "address": ADDRESS,
        "postcode": "M14 6AB",
        "latitude": 53.444,
        "longitude": -2.219,
    }
    [event] = audit_events(actors, action="read_location")
    assert (event["record_type"], event["record_id"]) == ("scheme", scheme_a["id"])
    assert event["actor_role"] == "provider"
    assert ADDRESS not in str(event)


def test_scheme_responses_are_not_cached(actors: Actors, scheme_a: dict[str, Any]) -> None:
    scheme = f"{API}/schemes/{scheme_a['id']}"
    responses = [
        actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a)),
        actors.get("provider_a", f"{API}/schemes"),
        actors.get("officer", scheme),
        actors.get("provider_a", f"{scheme}/location"),
        actors.patch("provider_a", scheme, {"accepts_pets": True}),
        actors.delete("provider_a", scheme),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert "no-store" in response.headers["cache-control"], response.request.url


def test_address_is_encrypted_at_rest(actors: Actors, scheme_a: dict[str, Any]) -> None:
    def raw_location(conn: Connection) -> bytes:
        stmt = select(Scheme.__table__.c.location_ciphertext)
        rows = conn.execute(stmt).scalars().all()
        assert len(rows) == 1
        return bytes(rows[0])

    raw = with_connection(actors.settings.database_url, raw_location)
    for plaintext in (ADDRESS, "Example Road", "M14 6AB", "M14 6", "53.444", "-2.219"):
        assert plaintext.encode() not in raw
        assert plaintext.encode().lower() not in raw.lower()
    decrypted = load_cipher(actors.settings).decrypt_json(raw)
    assert decrypted == {
        "address": ADDRESS,
        "postcode": "M14 6AB",
        "latitude": 53.444,
        "longitude": -2.219,
    }
