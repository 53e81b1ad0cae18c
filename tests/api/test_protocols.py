"""/api/v1/protocols: create, get, list (paging, filters), update, retire, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import (
    API,
    CAMDEN,
    MANCHESTER,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    assert_paginates,
    assert_problem,
    audit_events,
    list_all,
    protocol_body,
    registry_counts,
)


def test_create_and_get(actors: Actors) -> None:
    body = protocol_body(members=[STOCKPORT[0], MANCHESTER[0]], ends_on="2027-03-31")
    response = actors.post("admin", f"{API}/protocols", body)
    assert response.status_code == 201, response.text
    protocol = response.json()
    expected = {**body, "members": [MANCHESTER[0], STOCKPORT[0]]}  # sorted
    assert {k: protocol[k] for k in expected} == expected
    assert protocol["retired_at"] is None
    for who in ("officer", "commissioner", "provider_b"):
        fetched = actors.get(who, f"{API}/protocols/{protocol['id']}")
        assert fetched.status_code == 200
        assert fetched.json() == protocol
    [event] = audit_events(actors, record_type="protocol", record_id=protocol["id"])
    assert (event["action"], event["actor_role"]) == ("create", "admin")
    assert "members" in event["detail"]["fields"]


def test_defaults(actors: Actors) -> None:
    body = {
        "name": "Minimal",
        "kind": "reciprocal",
        "funding": "shared",
        "members": [WESTMINSTER[0], CAMDEN[0]],
        "starts_on": "2025-01-01",
    }
    response = actors.post("admin", f"{API}/protocols", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["ends_on"], created["notice_days"], created["balance_cap"]) == (None, 0, None)
    assert created["balance_period_days"] == 365


def test_get_unknown_id_is_404(actors: Actors) -> None:
    response = actors.get("admin", f"{API}/protocols/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 404)


@pytest.fixture
def three_protocols(actors: Actors) -> None:
    for body in (
        protocol_body(name="A: Greater Manchester"),
        protocol_body(
            name="B: Westminster-Camden",
            kind="reciprocal",
            members=[WESTMINSTER[0], CAMDEN[0]],
        ),
        protocol_body(
            name="C: Manchester-Camden", kind="reciprocal", members=[MANCHESTER[0], CAMDEN[0]]
        ),
    ):
        response = actors.post("admin", f"{API}/protocols", body)
        assert response.status_code == 201, response.text


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


@pytest.mark.usefixtures("three_protocols")
def test_list_orders_by_name_paginates_and_filters(actors: Actors) -> None:
    assert names(list_all(actors, "officer", f"{API}/protocols")) == [
        "A: Greater Manchester",
        "B: Westminster-Camden",
        "C: Manchester-Camden",
    ]
    assert_paginates(actors, "officer", f"{API}/protocols", 3)
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"authority_code": MANCHESTER[0]}, ["A: Greater Manchester", "C: Manchester-Camden"]),
        ({"authority_code": CAMDEN[0]}, ["B: Westminster-Camden", "C: Manchester-Camden"]),
        ({"authority_code": STOCKPORT[0]}, ["A: Greater Manchester"]),
        ({"authority_code": "E08000001"}, []),
        ({"kind": "group"}, ["A: Greater Manchester"]),
        ({"kind": "reciprocal"}, ["B: Westminster-Camden", "C: Manchester-Camden"]),
        ({"kind": "reciprocal", "authority_code": WESTMINSTER[0]}, ["B: Westminster-Camden"]),
    ]
    for params, expected in cases:
        page = list_all(actors, "commissioner", f"{API}/protocols", **params)
        assert (names(page), page["total"]) == (expected, len(expected)), params


def test_update_terms(actors: Actors, protocol_gm: dict[str, Any]) -> None:
    path = f"{API}/protocols/{protocol_gm['id']}"
    response = actors.patch(
        "admin", path, {"funding": "shared", "balance_cap": None, "ends_on": "2026-03-31"}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["funding"], updated["balance_cap"], updated["ends_on"]) == (
        "shared",
        None,
        "2026-03-31",
    )
    assert updated["members"] == protocol_gm["members"]
    assert actors.get("officer", path).json() == updated
    [event] = audit_events(actors, record_type="protocol", action="update")
    assert event["record_id"] == protocol_gm["id"]
    assert event["detail"]["fields"] == ["balance_cap", "ends_on", "funding"]


def test_update_members(actors: Actors, protocol_gm: dict[str, Any]) -> None:
    path = f"{API}/protocols/{protocol_gm['id']}"
    members = [STOCKPORT[0], MANCHESTER[0], WESTMINSTER[0]]
    response = actors.patch("admin", path, {"members": members})
    assert response.status_code == 200, response.text
    assert response.json()["members"] == sorted(members)
    assert actors.get("admin", path).json()["members"] == sorted(members)
    page = list_all(actors, "admin", f"{API}/protocols", authority_code=WESTMINSTER[0])
    assert [p["id"] for p in page["items"]] == [protocol_gm["id"]]
    response = actors.patch("admin", path, {"members": [MANCHESTER[0], CAMDEN[0]]})
    assert response.status_code == 200, response.text
    assert actors.get("admin", path).json()["members"] == [MANCHESTER[0], CAMDEN[0]]
    assert list_all(actors, "admin", f"{API}/protocols", authority_code=STOCKPORT[0])["total"] == 0


def test_update_dates_are_checked_against_the_stored_ones(
    actors: Actors, protocol_gm: dict[str, Any]
) -> None:
    before = registry_counts(actors)
    path = f"{API}/protocols/{protocol_gm['id']}"
    response = actors.patch("admin", path, {"ends_on": "2025-03-31"})  # starts 2025-04-01
    assert_problem(response, 422, "ends_on")
    response = actors.patch("admin", path, {"members": [MANCHESTER[0], MANCHESTER[0]]})
    assert_problem(response, 422, "members")
    assert actors.get("admin", path).json() == protocol_gm
    assert registry_counts(actors) == before


def test_retire_hides_from_lists_unless_asked(actors: Actors, protocol_gm: dict[str, Any]) -> None:
    response = actors.delete("admin", f"{API}/protocols/{protocol_gm['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert list_all(actors, "officer", f"{API}/protocols")["total"] == 0
    with_retired = list_all(actors, "officer", f"{API}/protocols", include_retired="true")
    assert [p["id"] for p in with_retired["items"]] == [protocol_gm["id"]]
    [event] = audit_events(actors, record_type="protocol", action="retire")
    assert (event["record_id"], event["actor_role"]) == (protocol_gm["id"], "admin")
