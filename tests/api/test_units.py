"""/api/v1/units: CRUD, filters, versioned updates (stale version 409), the officer's view."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

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
    unit_body,
)
from tests.placing import create_referral, household, make_offer, new_reference

SECRET_KEYS = {"address", "postcode", "latitude", "longitude", "lat", "lon", "location"}


def all_keys(value: Any) -> set[str]:
    """Every key at any depth of a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_create_and_get(actors: Actors, scheme_a: dict[str, Any]) -> None:
    response = actors.post(
        "provider_a",
        f"{API}/units",
        unit_body(scheme_a["id"], access_features=["wheelchair", "step_free", "wheelchair"]),
    )
    assert response.status_code == 201, response.text
    unit = response.json()
    assert unit["scheme_id"] == scheme_a["id"]
    assert (unit["bedrooms"], unit["bed_spaces"], unit["cots"]) == (2, 3, 1)
    assert unit["access_features"] == ["step_free", "wheelchair"]
    assert (unit["status"], unit["version"], unit["retired_at"]) == ("available", 1, None)
    assert unit["available_from"] == date.today().isoformat()
    assert (unit["authority_code"], unit["postcode_district"]) == (MANCHESTER[0], "M14")
    assert unit["scheme_type"] == "refuge"
    for who in ("admin", "provider_a", "officer", "integration"):
        fetched = actors.get(who, f"{API}/units/{unit['id']}")
        assert fetched.status_code == 200, who
        assert fetched.json() == unit
    [event] = audit_events(actors, record_type="unit", record_id=unit["id"])
    assert (event["action"], event["actor_role"]) == ("create", "provider")


def test_create_with_explicit_date_and_status(actors: Actors, scheme_a: dict[str, Any]) -> None:
    body = unit_body(
        scheme_a["id"],
        status="out_of_service",
        out_of_service_reason="decoration",
        available_from="2030-01-31",
    )
    response = actors.post("admin", f"{API}/units", body)
    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["available_from"]) == (
        "out_of_service",
        "2030-01-31",
    )


def test_get_unknown_id_is_404(actors: Actors) -> None:
    response = actors.get("admin", f"{API}/units/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 404)


def test_unit_in_another_providers_scheme_is_refused(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    before = registry_counts(actors)
    response = actors.post("provider_b", f"{API}/units", unit_body(scheme_a["id"]))
    assert_problem(response, 422, "scheme_id")
    assert registry_counts(actors) == before


def test_unit_in_a_retired_scheme_is_refused(actors: Actors, scheme_a: dict[str, Any]) -> None:
    actors.delete("provider_a", f"{API}/schemes/{scheme_a['id']}")
    before = registry_counts(actors)
    response = actors.post("provider_a", f"{API}/units", unit_body(scheme_a["id"]))
    assert_problem(response, 422, "scheme_id")
    assert registry_counts(actors) == before


@pytest.fixture
def four_units(actors: Actors, scheme_a: dict[str, Any]) -> dict[str, str]:
    """Three units in A's Manchester refuge, one in B's Stockport dispersed scheme; A2 is
    held by an offer and B1 occupied by B's own placement (the only ways there)."""
    stockport = actors.post(
        "provider_b",
        f"{API}/schemes",
        scheme_body(
            actors.provider_b,
            authority_code=STOCKPORT[0],
            scheme_type="dispersed_accommodation",
            postcode="SK1 3XE",
            latitude=53.4083,
            longitude=-2.1494,
        ),
    ).json()
    ids: dict[str, str] = {}
    for who, scheme, overrides in (
        ("provider_a", scheme_a["id"], {"label": "A1", "bed_spaces": 1, "access_features": []}),
        ("provider_a", scheme_a["id"], {"label": "A2", "bed_spaces": 4}),
        ("provider_a", scheme_a["id"], {"label": "A3", "access_features": ["wheelchair"]}),
        ("provider_b", stockport["id"], {"label": "B1", "bed_spaces": 5}),
    ):
        response = actors.post(who, f"{API}/units", unit_body(scheme, **overrides))
        assert response.status_code == 201, response.text
        ids[str(overrides["label"])] = response.json()["id"]
    ids["stockport_scheme"] = stockport["id"]
    make_offer(actors, create_referral(actors)["id"], ids["A2"])
    placed = actors.post(
        "provider_b",
        f"{API}/units/{ids['B1']}/direct-placements",
        {
            "reference": new_reference("SELF"),
            "authority_code": STOCKPORT[0],
            "risk_level": "standard",
            "household": household(),
        },
    )
    assert placed.status_code == 201, placed.text
    return ids


def labels(page: dict[str, Any]) -> list[str]:
    return sorted(item["label"] for item in page["items"])


def test_list_paginates(actors: Actors, four_units: dict[str, str]) -> None:
    assert_paginates(actors, "officer", f"{API}/units", 4)


def test_list_filters(actors: Actors, scheme_a: dict[str, Any], four_units: dict[str, str]) -> None:
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"scheme_id": scheme_a["id"]}, ["A1", "A2", "A3"]),
        ({"scheme_id": four_units["stockport_scheme"]}, ["B1"]),
        ({"status": "available"}, ["A1", "A3"]),
        ({"status": "held"}, ["A2"]),
        ({"status": "out_of_service"}, []),
        ({"authority_code": STOCKPORT[0]}, ["B1"]),
        ({"authority_code": MANCHESTER[0]}, ["A1", "A2", "A3"]),
        ({"scheme_type": "dispersed_accommodation"}, ["B1"]),
        ({"scheme_type": "refuge"}, ["A1", "A2", "A3"]),
        ({"min_bed_spaces": 4}, ["A2", "B1"]),
        ({"min_bed_spaces": 3}, ["A2", "A3", "B1"]),
        ({"access_feature": "wheelchair"}, ["A3"]),
        ({"access_feature": "step_free"}, ["A2", "B1"]),
        ({"access_feature": "adapted_bathroom"}, []),
        ({"status": "available", "min_bed_spaces": 2}, ["A3"]),
    ]
    for params, expected in cases:
        page = list_all(actors, "officer", f"{API}/units", **params)
        assert (labels(page), page["total"]) == (expected, len(expected)), params


def test_providers_list_only_their_own_units(actors: Actors, four_units: dict[str, str]) -> None:
    assert labels(list_all(actors, "provider_a", f"{API}/units")) == ["A1", "A2", "A3"]
    assert labels(list_all(actors, "provider_b", f"{API}/units")) == ["B1"]
    # Filters narrow the row filter; they never widen it.
    other = list_all(actors, "provider_a", f"{API}/units", authority_code=STOCKPORT[0])
    assert (other["items"], other["total"]) == ([], 0)


def test_update_bumps_the_version(actors: Actors, unit_a: dict[str, Any]) -> None:
    path = f"{API}/units/{unit_a['id']}"
    response = actors.patch(
        "provider_a",
        path,
        {"version": 1, "status": "out_of_service", "out_of_service_reason": "repairs"},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["status"], updated["version"]) == ("out_of_service", 2)
    assert updated["label"] == unit_a["label"]
    assert updated["updated_at"] >= unit_a["updated_at"]
    assert actors.get("officer", path).json() == updated
    response = actors.patch("provider_a", path, {"version": 2, "bed_spaces": 4, "cots": 0})
    assert response.status_code == 200, response.text
    assert (response.json()["bed_spaces"], response.json()["version"]) == (4, 3)
    events = audit_events(actors, record_type="unit", action="update")
    assert [e["detail"]["version"] for e in events] == [3, 2]
    assert events[0]["detail"]["fields"] == ["bed_spaces", "cots"]
    assert {e["record_id"] for e in events} == {unit_a["id"]}
    assert {e["actor_role"] for e in events} == {"provider"}


def test_stale_version_is_409_and_changes_nothing(actors: Actors, unit_a: dict[str, Any]) -> None:
    path = f"{API}/units/{unit_a['id']}"
    first = actors.patch("provider_a", path, {"version": 1, "label": "First writer"})
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    audit_before = registry_counts(actors)["audit"]
    second = actors.patch(
        "admin",
        path,
        {
            "version": 1,
            "label": "Second writer",
            "status": "out_of_service",
            "out_of_service_reason": "repairs",
        },
    )
    problem = assert_problem(second, 409)
    assert problem["current_version"] == 2
    current = actors.get("admin", path).json()
    assert current == first.json()
    assert (current["label"], current["status"]) == ("First writer", "available")
    assert registry_counts(actors)["audit"] == audit_before


def test_update_needs_a_version(actors: Actors, unit_a: dict[str, Any]) -> None:
    response = actors.patch("provider_a", f"{API}/units/{unit_a['id']}", {"label": "No version"})
    assert_problem(response, 400, "version")
    assert actors.get("admin", f"{API}/units/{unit_a['id']}").json() == unit_a


def test_retire_hides_from_lists_unless_asked(actors: Actors, unit_a: dict[str, Any]) -> None:
    response = actors.delete("provider_a", f"{API}/units/{unit_a['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert list_all(actors, "officer", f"{API}/units")["total"] == 0
    with_retired = list_all(actors, "officer", f"{API}/units", include_retired="true")
    assert [u["id"] for u in with_retired["items"]] == [unit_a["id"]]
    [event] = audit_events(actors, record_type="unit", action="retire")
    assert (event["record_id"], event["actor_role"]) == (unit_a["id"], "provider")


def test_units_of_a_retired_scheme_leave_the_lists(actors: Actors, unit_a: dict[str, Any]) -> None:
    response = actors.delete("provider_a", f"{API}/schemes/{unit_a['scheme_id']}")
    assert response.status_code == 200, response.text
    for who in ("officer", "provider_a", "admin"):
        assert list_all(actors, who, f"{API}/units")["total"] == 0, who
        listed = list_all(actors, who, f"{API}/units", include_retired="true")
        assert [u["id"] for u in listed["items"]] == [unit_a["id"]], who
    assert actors.get("officer", f"{API}/units/{unit_a['id']}").json() == unit_a


@pytest.mark.parametrize("who", ["officer", "integration"])
def test_officers_see_area_and_features_never_the_address(
    actors: Actors, unit_a: dict[str, Any], who: str
) -> None:
    responses = [
        actors.get(who, f"{API}/units/{unit_a['id']}"),
        actors.get(who, f"{API}/units"),
        actors.get(who, f"{API}/schemes/{unit_a['scheme_id']}"),
        actors.get(who, f"{API}/schemes"),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert "no-store" in response.headers["cache-control"]
        document = response.json()
        keys = all_keys(document)
        assert not keys & SECRET_KEYS, document
        assert not [k for k in keys if "ciphertext" in k], document
        for secret in ("Example Road", "Fallowfield,", "6AB", "53.444", "-2.219"):
            assert secret not in response.text
    unit = responses[0].json()
    assert (unit["postcode_district"], unit["authority_code"]) == ("M14", MANCHESTER[0])
    assert unit["access_features"] == ["step_free"]
