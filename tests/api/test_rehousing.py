"""/api/v1/rehousing-options: perpetrator-rehousing options, CRUD, filters, secret address."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, select

from placement.crypto import load_cipher
from placement.models import RehousingOption
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
    rehousing_body,
    with_connection,
)

ADDRESS = "3 Sample Street, Ardwick, Manchester"
PATH = f"{API}/rehousing-options"


def test_provider_creates_an_option_for_itself(actors: Actors, option_a: dict[str, Any]) -> None:
    assert option_a["provider_id"] == actors.provider_a
    assert (option_a["authority_code"], option_a["postcode_district"]) == (MANCHESTER[0], "M13")
    assert option_a["accepts_conditions"] == ["bail", "dvpo"]
    assert (option_a["status"], option_a["version"], option_a["bed_spaces"]) == (
        "available",
        1,
        1,
    )
    assert option_a["available_from"] == date.today().isoformat()
    for secret in ("address", "postcode", "latitude", "longitude"):
        assert secret not in option_a
    for who in ("admin", "provider_a", "officer", "integration"):
        fetched = actors.get(who, f"{PATH}/{option_a['id']}")
        assert fetched.status_code == 200, who
        assert fetched.json() == option_a
        assert "Sample Street" not in fetched.text
    [event] = audit_events(actors, record_type="rehousing_option", record_id=option_a["id"])
    assert (event["action"], event["actor_role"]) == ("create", "provider")


def test_provider_cannot_register_an_option_for_another_provider(actors: Actors) -> None:
    before = registry_counts(actors)
    response = actors.post("provider_a", PATH, rehousing_body(provider_id=actors.provider_b))
    assert_problem(response, 403)
    assert registry_counts(actors) == before


def test_admin_creates_an_option_without_a_provider(actors: Actors) -> None:
    body = rehousing_body(status="out_of_service", available_from="2030-01-31")
    response = actors.post("admin", PATH, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["provider_id"], created["status"]) == (None, "out_of_service")
    assert created["available_from"] == "2030-01-31"


def test_get_unknown_id_is_404(actors: Actors) -> None:
    assert_problem(actors.get("admin", f"{PATH}/00000000-0000-4000-8000-000000000000"), 404)


@pytest.fixture
def three_options(actors: Actors, option_a: dict[str, Any]) -> None:
    for who, body in (
        (
            "provider_b",
            rehousing_body(
                name="Edgeley Flat",
                authority_code=STOCKPORT[0],
                postcode="SK3 9AA",
                latitude=53.4083,
                longitude=-2.1494,
                status="occupied",
            ),
        ),
        ("admin", rehousing_body(name="Didsbury Room", status="occupied")),
    ):
        response = actors.post(who, PATH, body)
        assert response.status_code == 201, response.text


def names(page: dict[str, Any]) -> list[str]:
    return sorted(item["name"] for item in page["items"])


@pytest.mark.usefixtures("three_options")
def test_list_paginates_and_filters(actors: Actors) -> None:
    assert_paginates(actors, "officer", PATH, 3)
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"authority_code": MANCHESTER[0]}, ["Ardwick Lodge", "Didsbury Room"]),
        ({"authority_code": STOCKPORT[0]}, ["Edgeley Flat"]),
        ({"status": "occupied"}, ["Didsbury Room", "Edgeley Flat"]),
        ({"status": "available"}, ["Ardwick Lodge"]),
        ({"status": "out_of_service"}, []),
        ({"status": "occupied", "authority_code": STOCKPORT[0]}, ["Edgeley Flat"]),
    ]
    for params, expected in cases:
        page = list_all(actors, "integration", PATH, **params)
        assert (names(page), page["total"]) == (expected, len(expected)), params
    # Providers see only their own options.
    assert names(list_all(actors, "provider_a", PATH)) == ["Ardwick Lodge"]
    assert names(list_all(actors, "provider_b", PATH)) == ["Edgeley Flat"]


def test_update_bumps_the_version_and_is_audited(actors: Actors, option_a: dict[str, Any]) -> None:
    path = f"{PATH}/{option_a['id']}"
    response = actors.patch(
        "provider_a", path, {"status": "occupied", "accepts_conditions": ["probation"]}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["status"], updated["accepts_conditions"], updated["version"]) == (
        "occupied",
        ["probation"],
        2,
    )
    assert actors.get("officer", path).json() == updated
    [event] = audit_events(actors, record_type="rehousing_option", action="update")
    assert (event["record_id"], event["actor_role"]) == (option_a["id"], "provider")
    assert event["detail"]["fields"] == ["accepts_conditions", "status"]


def test_moving_the_option_updates_district_and_address(
    actors: Actors, option_a: dict[str, Any]
) -> None:
    path = f"{PATH}/{option_a['id']}"
    moved = {
        "address": "9 Other Road, Stockport",
        "postcode": "SK1 1AA",
        "latitude": 53.4083,
        "longitude": -2.1494,
        "authority_code": STOCKPORT[0],
    }
    response = actors.patch("provider_a", path, moved)
    assert response.status_code == 200, response.text
    assert (response.json()["postcode_district"], response.json()["authority_code"]) == (
        "SK1",
        STOCKPORT[0],
    )
    location = actors.get("provider_a", f"{path}/location").json()
    assert location == {
        "option_id": option_a["id"],
        "address": "9 Other Road, Stockport",
        "postcode": "SK1 1AA",
        "latitude": 53.4083,
        "longitude": -2.1494,
    }


def test_update_outside_england_changes_nothing(actors: Actors, option_a: dict[str, Any]) -> None:
    path = f"{PATH}/{option_a['id']}"
    before = registry_counts(actors)
    response = actors.patch("provider_a", path, {"latitude": 55.95, "longitude": -3.19})
    assert_problem(response, 422, "latitude")
    assert actors.get("admin", path).json() == option_a
    assert registry_counts(actors) == before


def test_retire_hides_from_lists_unless_asked(actors: Actors, option_a: dict[str, Any]) -> None:
    response = actors.delete("provider_a", f"{PATH}/{option_a['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert list_all(actors, "officer", PATH)["total"] == 0
    with_retired = list_all(actors, "officer", PATH, include_retired="true")
    assert [o["id"] for o in with_retired["items"]] == [option_a["id"]]
    [event] = audit_events(actors, record_type="rehousing_option", action="retire")
    assert (event["record_id"], event["actor_role"]) == (option_a["id"], "provider")


def test_address_read_by_its_provider_is_audited(actors: Actors, option_a: dict[str, Any]) -> None:
    response = actors.get("provider_a", f"{PATH}/{option_a['id']}/location")
    assert response.status_code == 200, response.text
    assert (response.json()["address"], response.json()["postcode"]) == (ADDRESS, "M13 9PL")
    assert "no-store" in response.headers["cache-control"]
    [event] = audit_events(actors, action="read_location")
    assert (event["record_type"], event["record_id"]) == ("rehousing_option", option_a["id"])
    for who, status in (("admin", 403), ("officer", 403), ("provider_b", 404)):
        assert_problem(actors.get(who, f"{PATH}/{option_a['id']}/location"), status)
    assert len(audit_events(actors, action="read_location")) == 1


def test_address_is_encrypted_at_rest(actors: Actors, option_a: dict[str, Any]) -> None:
    def raw_address(conn: Connection) -> bytes:
        [raw] = conn.execute(select(RehousingOption.__table__.c.address_ciphertext)).scalars()
        return bytes(raw)

    raw = with_connection(actors.settings.database_url, raw_address)
    for plaintext in (ADDRESS, "Sample Street", "M13 9PL"):
        assert plaintext.encode() not in raw
    assert load_cipher(actors.settings).decrypt_json(raw) == {
        "address": ADDRESS,
        "postcode": "M13 9PL",
    }
