"""/api/v1/authorities: create, get, list (paging, filters), update, retire, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import (
    API,
    AUTHORITIES,
    MANCHESTER,
    Actors,
    assert_paginates,
    assert_problem,
    audit_events,
    list_all,
    registry_counts,
    scheme_body,
)

BOLTON = {
    "code": "E08000001",
    "name": "Bolton",
    "region": "North West",
    "group_name": "Greater Manchester",
    "latitude": 53.5779,
    "longitude": -2.4290,
}


def codes(page: dict[str, Any]) -> list[str]:
    return [item["code"] for item in page["items"]]


def test_create_then_get(actors: Actors) -> None:
    created = actors.post("admin", f"{API}/authorities", BOLTON)
    assert created.status_code == 201, created.text
    assert created.json() == {**BOLTON, "retired_at": None}
    fetched = actors.get("officer", f"{API}/authorities/E08000001")
    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_create_without_optional_fields(actors: Actors) -> None:
    body = {"code": "E06000057", "name": "Northumberland", "region": "North East"}
    response = actors.post("admin", f"{API}/authorities", body)
    assert response.status_code == 201, response.text
    assert response.json()["group_name"] is None
    assert response.json()["latitude"] is None


def test_duplicate_code_is_a_conflict_and_writes_nothing(actors: Actors) -> None:
    before = registry_counts(actors)
    response = actors.post(
        "admin",
        f"{API}/authorities",
        {"code": MANCHESTER[0], "name": "Another Manchester", "region": "North West"},
    )
    assert_problem(response, 409)
    assert registry_counts(actors) == before
    assert actors.get("admin", f"{API}/authorities/{MANCHESTER[0]}").json()["name"] == "Manchester"


def test_get_unknown_code_is_404(actors: Actors) -> None:
    assert_problem(actors.get("admin", f"{API}/authorities/E08999999"), 404)


def test_list_is_ordered_by_code_and_paginates(actors: Actors) -> None:
    page = list_all(actors, "officer", f"{API}/authorities")
    assert codes(page) == sorted(a[0] for a in AUTHORITIES)
    assert_paginates(actors, "officer", f"{API}/authorities", len(AUTHORITIES))


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"region": "London"}, ["E09000007", "E09000033"]),
    ({"region": "North West"}, ["E08000003", "E08000007"]),
    ({"group_name": "Greater Manchester"}, ["E08000003", "E08000007"]),
    ({"group_name": "Greater London"}, ["E09000007", "E09000033"]),
    ({"q": "chest"}, ["E08000003"]),
    ({"q": "E08000007"}, ["E08000007"]),
    ({"q": "nowhere"}, []),
    ({"region": "London", "q": "Camden"}, ["E09000007"]),
]


def test_list_filters(actors: Actors) -> None:
    for params, expected in FILTERS:
        page = list_all(actors, "admin", f"{API}/authorities", **params)
        assert (codes(page), page["total"]) == (expected, len(expected)), params


def test_update_changes_only_what_was_sent(actors: Actors) -> None:
    response = actors.patch(
        "admin", f"{API}/authorities/{MANCHESTER[0]}", {"name": "Manchester City"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Manchester City"
    assert (body["region"], body["group_name"]) == ("North West", "Greater Manchester")
    assert actors.get("admin", f"{API}/authorities/{MANCHESTER[0]}").json() == body
    [event] = audit_events(actors, record_type="authority", action="update")
    assert event["record_id"] == MANCHESTER[0]
    assert event["actor_role"] == "admin"
    assert event["detail"]["fields"] == ["name"]


def test_update_unknown_code_is_404(actors: Actors) -> None:
    assert_problem(actors.patch("admin", f"{API}/authorities/E08999999", {"name": "X"}), 404)


def test_retire_hides_from_lists_unless_asked(actors: Actors) -> None:
    response = actors.delete("admin", f"{API}/authorities/E09000007")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert "E09000007" not in codes(list_all(actors, "admin", f"{API}/authorities"))
    assert list_all(actors, "admin", f"{API}/authorities")["total"] == 3
    with_retired = list_all(actors, "admin", f"{API}/authorities", include_retired="true")
    assert "E09000007" in codes(with_retired)
    assert actors.get("admin", f"{API}/authorities/E09000007").json()["retired_at"] is not None
    [event] = audit_events(actors, record_type="authority", action="retire")
    assert (event["record_id"], event["actor_role"]) == ("E09000007", "admin")


def test_retiring_twice_keeps_the_first_time_and_audits_once(actors: Actors) -> None:
    first = actors.delete("admin", f"{API}/authorities/E09000007").json()
    second = actors.delete("admin", f"{API}/authorities/E09000007")
    assert second.status_code == 200
    assert second.json()["retired_at"] == first["retired_at"]
    assert len(audit_events(actors, record_type="authority", action="retire")) == 1


def test_retired_authority_cannot_take_new_schemes(actors: Actors) -> None:
    actors.delete("admin", f"{API}/authorities/{MANCHESTER[0]}")
    before = registry_counts(actors)
    response = actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a))
    assert_problem(response, 422, "authority_code")
    assert registry_counts(actors) == before


def test_create_is_audited(actors: Actors) -> None:
    actors.post("admin", f"{API}/authorities", BOLTON)
    [event] = audit_events(actors, record_type="authority", record_id="E08000001")
    assert (event["action"], event["actor_role"]) == ("create", "admin")
    assert "name" in event["detail"]["fields"]


# -- only real authorities, where they are -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"code": "E08999999"}, "code", "not the ONS code of a current English"),
        ({"code": "E06000999", "name": "Nowhere"}, "code", "ONS code"),
        ({"latitude": 0.0, "longitude": 0.0}, "latitude", "is not in Bolton"),
        ({"latitude": 53.4794, "longitude": -2.2453}, "latitude", "is not in Bolton"),
        ({"longitude": None}, "longitude", "together"),
        ({"region": "Narnia"}, "region", "nine English regions"),
        ({"region": "Greater Manchester"}, "region", "nine English regions"),
        ({"region": "London"}, "region", "Bolton is in North West"),
    ],
)
def test_an_authority_that_is_not_real_or_not_where_it_is_is_refused(
    actors: Actors, changes: dict[str, Any], field: str, words: str
) -> None:
    before = registry_counts(actors)
    response = actors.post("admin", f"{API}/authorities", {**BOLTON, **changes})
    problem = assert_problem(response, 422, field)
    assert words in problem["detail"]
    assert registry_counts(actors) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"latitude": 0.0, "longitude": 0.0}, "latitude"),
        ({"latitude": 51.4975, "longitude": -0.1357}, "latitude"),  # Westminster
        ({"region": "Wales"}, "region"),
        ({"region": "Yorkshire and The Humber"}, "region"),
    ],
)
def test_an_authority_cannot_be_moved_out_of_itself(
    actors: Actors, changes: dict[str, Any], field: str
) -> None:
    path = f"{API}/authorities/{MANCHESTER[0]}"
    before = actors.get("admin", path).json()
    assert_problem(actors.patch("admin", path, changes), 422, field)
    assert actors.get("admin", path).json() == before
