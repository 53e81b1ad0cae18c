"""/api/v1/keys: issue (shown once, stored hashed), list, revoke (a revoked key gets 401)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from typing import Any

import pytest
from sqlalchemy import Connection, select

from placement.cli import issue_key
from placement.config import Settings
from placement.enums import Role
from placement.models import ApiKey
from tests.conftest import (
    API,
    MANCHESTER,
    Actors,
    app_client,
    assert_paginates,
    assert_problem,
    audit_events,
    registry_counts,
    with_connection,
)


def issue(actors: Actors, body: dict[str, Any]) -> dict[str, Any]:
    response = actors.post("admin", f"{API}/keys", body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def test_issue_a_key_that_works_and_is_shown_once(actors: Actors) -> None:
    issued = issue(
        actors,
        {
            "name": "Manchester housing options",
            "role": "housing_officer",
            "authority_code": MANCHESTER[0],
        },
    )
    key = issued["key"]
    details = issued["details"]
    assert key.startswith("psk_") and len(key) > 40
    assert details["role"] == "housing_officer"
    assert details["authority_code"] == MANCHESTER[0]
    assert (details["provider_id"], details["region"], details["revoked_at"]) == (None, None, None)
    assert key.startswith(details["key_prefix"])
    # The key works at once, as the role it was issued for.
    headers = {"Authorization": f"Bearer {key}"}
    assert actors.client.get(f"{API}/units", headers=headers).status_code == 200
    assert actors.client.get(f"{API}/keys", headers=headers).status_code == 403
    # It is never shown again: not in the listing, and stored only as its SHA-256.
    listing = actors.get("admin", f"{API}/keys", params={"limit": 500})
    assert key not in listing.text
    assert hashlib.sha256(key.encode()).hexdigest() not in listing.text
    [listed] = [k for k in listing.json()["items"] if k["id"] == details["id"]]
    assert listed == details

    def stored(conn: Connection) -> list[str]:
        table = ApiKey.__table__
        rows = conn.execute(select(table.c.key_hash).where(table.c.id == details["id"]))
        return [str(value) for value in rows.scalars()]

    assert with_connection(actors.settings.database_url, stored) == [
        hashlib.sha256(key.encode()).hexdigest()
    ]
    [event] = audit_events(actors, record_type="api_key", record_id=details["id"])
    assert (event["action"], event["actor_role"]) == ("create", "admin")
    assert key not in str(event)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"role": "housing_officer"}, 422, "authority_code"),
        ({"role": "integration"}, 422, "authority_code"),
        ({"role": "provider"}, 422, "provider_id"),
        ({"role": "commissioner"}, 422, "region"),
        ({"role": "commissioner", "region": "Atlantis"}, 422, "region"),
        ({"role": "admin", "authority_code": MANCHESTER[0]}, 422, "role"),
        ({"role": "housing_officer", "authority_code": "E08999999"}, 422, "authority_code"),
        (
            {"role": "provider", "provider_id": "00000000-0000-4000-8000-000000000000"},
            422,
            "provider_id",
        ),
        ({"role": "superuser"}, 400, "role"),
        ({"role": "admin", "scope": "all"}, 400, "scope"),
    ],
)
def test_keys_carry_exactly_the_scope_their_role_needs(
    shared_actors: Actors, body: dict[str, Any], status: int, field: str
) -> None:
    actors = shared_actors
    before = registry_counts(actors)
    assert_problem(actors.post("admin", f"{API}/keys", {"name": "k", **body}), status, field)
    assert registry_counts(actors) == before


def test_commissioner_keys_take_a_region_or_a_group(actors: Actors) -> None:
    for region in ("North West", "Greater London"):
        issued = issue(actors, {"name": "c", "role": "commissioner", "region": region})
        assert issued["details"]["region"] == region


def test_list_paginates(actors: Actors) -> None:
    # The actors fixture issued six keys: admin, two providers, officer, integration,
    # commissioner.
    assert_paginates(actors, "admin", f"{API}/keys", 6)
    roles = [k["role"] for k in actors.get("admin", f"{API}/keys").json()["items"]]
    assert sorted(roles) == sorted(
        ["admin", "provider", "provider", "housing_officer", "integration", "commissioner"]
    )


def test_revoked_key_gets_401(actors: Actors) -> None:
    issued = issue(
        actors, {"name": "to revoke", "role": "provider", "provider_id": actors.provider_a}
    )
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert actors.client.get(f"{API}/schemes", headers=headers).status_code == 200
    response = actors.delete("admin", f"{API}/keys/{issued['details']['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["revoked_at"] is not None
    refused = actors.client.get(f"{API}/schemes", headers=headers)
    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"].startswith("Bearer")
    listed = actors.get("admin", f"{API}/keys").json()["items"]
    assert [k["revoked_at"] for k in listed if k["id"] == issued["details"]["id"]] == [
        response.json()["revoked_at"]
    ]
    [event] = audit_events(actors, record_type="api_key", action="revoke")
    assert (event["record_id"], event["actor_role"]) == (issued["details"]["id"], "admin")
    # Revoking again changes nothing more, and so is not a second event.
    again = actors.delete("admin", f"{API}/keys/{issued['details']['id']}")
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    assert len(audit_events(actors, record_type="api_key", action="revoke")) == 1


def test_the_last_admin_key_cannot_be_revoked_through_the_api(actors: Actors) -> None:
    """Otherwise nobody could issue keys again: the API refuses (the CLI may, and warns)."""
    listed = actors.get("admin", f"{API}/keys", params={"limit": 200}).json()["items"]
    admin_ids = [k["id"] for k in listed if k["role"] == "admin" and k["revoked_at"] is None]
    second = issue(actors, {"name": "second admin", "role": "admin"})
    as_second = dataclasses.replace(actors, keys={**actors.keys, "admin": second["key"]})
    second_headers = {"Authorization": f"Bearer {second['key']}"}
    for key_id in admin_ids:  # revoke every other admin key, with the second one
        revoked = actors.client.delete(f"{API}/keys/{key_id}", headers=second_headers)
        assert revoked.status_code == 200, revoked.text
    before = registry_counts(as_second)
    last = actors.client.delete(f"{API}/keys/{second['details']['id']}", headers=second_headers)
    problem = assert_problem(last, 409)
    assert "last admin key" in problem["detail"]
    assert actors.client.get(f"{API}/keys", headers=second_headers).status_code == 200
    assert registry_counts(as_second) == before


def test_revoking_an_unknown_key_is_404(actors: Actors) -> None:
    before = registry_counts(actors)
    response = actors.delete("admin", f"{API}/keys/00000000-0000-4000-8000-000000000000")
    assert_problem(response, 404)
    assert registry_counts(actors) == before


def test_requests_are_rate_limited_per_key(migrated_settings: Settings) -> None:
    settings = dataclasses.replace(migrated_settings, rate_limit_per_minute=3)
    first, second = (asyncio.run(issue_key(settings, Role.ADMIN, name)) for name in "ab")
    with app_client(settings) as client:

        def get(key: str) -> Any:
            return client.get(f"{API}/authorities", headers={"Authorization": f"Bearer {key}"})

        assert [get(first).status_code for _ in range(3)] == [200, 200, 200]
        limited = get(first)
        assert_problem(limited, 429)
        assert get(second).status_code == 200  # another key has its own allowance
        assert get(first).status_code == 429
        assert client.get("/health").status_code == 200  # not an /api/v1 call
