"""/api/v1/providers: create, get, list (paging, filters), update, retire, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import (
    API,
    Actors,
    assert_paginates,
    assert_problem,
    audit_events,
    list_all,
    registry_counts,
    scheme_body,
)


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_create_then_get(actors: Actors) -> None:
    response = actors.post(
        "admin",
        f"{API}/providers",
        {"name": "Rainbow Refuge", "specialisms": ["lgbtq", "deaf_bsl", "lgbtq"]},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Rainbow Refuge"
    assert created["specialisms"] == ["deaf_bsl", "lgbtq"]  # deduplicated, sorted
    assert created["retired_at"] is None
    fetched = actors.get("commissioner", f"{API}/providers/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created
    [event] = audit_events(actors, record_type="provider", record_id=created["id"])
    assert (event["action"], event["actor_role"]) == ("create", "admin")


def test_get_unknown_id_is_404(actors: Actors) -> None:
    response = actors.get("admin", f"{API}/providers/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 404)


@pytest.fixture
def five_providers(actors: Actors) -> None:
    for name, specialisms in (
        ("Ashton Women's Aid", ["older_victims"]),
        ("Men's Advice Manchester", ["male_victims"]),
        ("Zest Young People", ["young_people", "by_and_for"]),
    ):
        response = actors.post(
            "admin", f"{API}/providers", {"name": name, "specialisms": specialisms}
        )
        assert response.status_code == 201, response.text


@pytest.mark.usefixtures("five_providers")
def test_list_is_ordered_by_name_and_paginates(actors: Actors) -> None:
    page = list_all(actors, "officer", f"{API}/providers")
    assert names(page) == sorted(names(page))
    assert_paginates(actors, "officer", f"{API}/providers", 5)


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"specialism": "by_and_for"}, ["Northern Refuges", "Zest Young People"]),
    ({"specialism": "male_victims"}, ["Men's Advice Manchester"]),
    ({"specialism": "deaf_bsl"}, []),
    ({"q": "refuge"}, ["Northern Refuges"]),
    ({"q": "MAN"}, ["Men's Advice Manchester"]),
    ({"q": "o", "specialism": "young_people"}, ["Zest Young People"]),
]


@pytest.mark.usefixtures("five_providers")
def test_list_filters(actors: Actors) -> None:
    for params, expected in FILTERS:
        page = list_all(actors, "admin", f"{API}/providers", **params)
        assert (names(page), page["total"]) == (expected, len(expected)), params


def test_unknown_specialism_filter_is_400(actors: Actors) -> None:
    response = actors.get("admin", f"{API}/providers", params={"specialism": "astrology"})
    assert_problem(response, 400, "specialism")


def test_admin_updates_a_provider(actors: Actors) -> None:
    response = actors.patch(
        "admin", f"{API}/providers/{actors.provider_a}", {"specialisms": ["lgbtq"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["specialisms"] == ["lgbtq"]
    assert response.json()["name"] == "Northern Refuges"
    fetched = actors.get("admin", f"{API}/providers/{actors.provider_a}").json()
    assert fetched["specialisms"] == ["lgbtq"]
    [event] = audit_events(actors, record_type="provider", action="update")
    assert (event["record_id"], event["actor_role"]) == (actors.provider_a, "admin")
    assert event["detail"]["fields"] == ["specialisms"]


def test_provider_updates_its_own_entry(actors: Actors) -> None:
    response = actors.patch(
        "provider_a", f"{API}/providers/{actors.provider_a}", {"name": "Northern Refuges CIC"}
    )
    assert response.status_code == 200, response.text
    assert actors.get("admin", f"{API}/providers/{actors.provider_a}").json()["name"] == (
        "Northern Refuges CIC"
    )
    [event] = audit_events(actors, record_type="provider", action="update")
    assert event["actor_role"] == "provider"


def test_provider_cannot_update_another_provider(actors: Actors) -> None:
    before = actors.get("admin", f"{API}/providers/{actors.provider_b}").json()
    response = actors.patch(
        "provider_a", f"{API}/providers/{actors.provider_b}", {"name": "Hijacked"}
    )
    assert_problem(response, 404)
    assert actors.get("admin", f"{API}/providers/{actors.provider_b}").json() == before
    assert audit_events(actors, record_type="provider", action="update") == []


def test_retire_hides_from_lists_unless_asked(actors: Actors) -> None:
    response = actors.delete("admin", f"{API}/providers/{actors.provider_b}")
    assert response.status_code == 200, response.text
    assert response.json()["retired_at"] is not None
    assert names(list_all(actors, "admin", f"{API}/providers")) == ["Northern Refuges"]
    with_retired = list_all(actors, "admin", f"{API}/providers", include_retired="true")
    assert names(with_retired) == ["Northern Refuges", "Southern Safe Homes"]
    [event] = audit_events(actors, record_type="provider", action="retire")
    assert (event["record_id"], event["actor_role"]) == (actors.provider_b, "admin")


def test_retired_provider_cannot_take_new_schemes(actors: Actors) -> None:
    actors.delete("admin", f"{API}/providers/{actors.provider_a}")
    before = registry_counts(actors)
    response = actors.post("admin", f"{API}/schemes", scheme_body(actors.provider_a))
    assert_problem(response, 422, "provider_id")
    assert registry_counts(actors) == before
