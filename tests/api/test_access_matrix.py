"""Who may do what: every role on every endpoint family, reads and writes.

Expected answers: 200/201 where the role and scope allow it; 403 where the role may not
do this at all; 404 where the row lies outside the key's scope (its existence must not
leak). Every allowed write and location read adds exactly one audit event; every refused
call adds none. Missing, malformed, unknown and revoked keys get 401 everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from placement.geography import local_authorities
from tests.conftest import (
    API,
    AUTHORITIES,
    PROBLEM_JSON,
    Actors,
    assert_problem,
    audit_total,
    protocol_body,
    rehousing_body,
    scheme_body,
    unit_body,
)

ROLES = ("admin", "provider_a", "provider_b", "officer", "integration", "commissioner")
FAMILIES = (
    "authorities",
    "providers",
    "schemes",
    "units",
    "protocols",
    "rehousing-options",
    "keys",
    "audit",
)
AUDITED = {"create", "update", "retire", "location", "revoke"}
_spare_authorities = iter(
    sorted(
        (a for a in local_authorities().values() if a.code not in {x[0] for x in AUTHORITIES}),
        key=lambda a: a.code,
    )
)
"""Real authorities the conftest does not register, one for each create (only real ONS
codes may be registered)."""

Expected = int | frozenset[int]


@dataclass(frozen=True)
class Call:
    op: str
    method: str
    path: str
    body: Any = None


def by_role(default: Expected, **overrides: Expected) -> dict[str, Expected]:
    return {role: overrides.get(role, default) for role in ROLES}


EVERYONE_READS = by_role(200)
ADMIN_CREATES = by_role(403, admin=201)
ADMIN_WRITES = by_role(403, admin=200)
# Scheme, unit and rehousing rows belong to provider A; provider B cannot even see them.
OWN_ROWS_READ = by_role(200, provider_b=404, commissioner=403)
OWN_ROWS_WRITE = by_role(403, admin=200, provider_a=200, provider_b=404)
REGISTRY_LIST = by_role(200, commissioner=403)
PROVIDERS_CREATE = by_role(403, admin=201, provider_a=201, provider_b=201)
LOCATION = by_role(403, provider_a=200, provider_b=404)
NO_SUCH_ROUTE = by_role(frozenset({404, 405}))

EXPECTED: dict[str, dict[str, dict[str, Expected]]] = {
    "authorities": {
        "list": EVERYONE_READS,
        "get": EVERYONE_READS,
        "create": ADMIN_CREATES,
        "update": ADMIN_WRITES,
        "retire": ADMIN_WRITES,
    },
    "providers": {
        "list": EVERYONE_READS,
        "get": EVERYONE_READS,
        "create": ADMIN_CREATES,
        "update": by_role(403, admin=200, provider_a=200, provider_b=404),
        "retire": ADMIN_WRITES,
    },
    "schemes": {
        "list": REGISTRY_LIST,
        "get": OWN_ROWS_READ,
        "location": LOCATION,
        "create": PROVIDERS_CREATE,
        "update": OWN_ROWS_WRITE,
        "retire": OWN_ROWS_WRITE,
    },
    "units": {
        "list": REGISTRY_LIST,
        "get": OWN_ROWS_READ,
        # Provider B names a scheme it does not manage: the field is refused.
        "create": by_role(403, admin=201, provider_a=201, provider_b=422),
        "update": OWN_ROWS_WRITE,
        "retire": OWN_ROWS_WRITE,
    },
    "protocols": {
        "list": EVERYONE_READS,
        "get": EVERYONE_READS,
        "create": ADMIN_CREATES,
        "update": ADMIN_WRITES,
        "retire": ADMIN_WRITES,
    },
    "rehousing-options": {
        "list": REGISTRY_LIST,
        "get": OWN_ROWS_READ,
        "location": LOCATION,
        "create": PROVIDERS_CREATE,
        "update": OWN_ROWS_WRITE,
        "retire": OWN_ROWS_WRITE,
    },
    "keys": {"list": by_role(403, admin=200), "create": ADMIN_CREATES, "revoke": ADMIN_WRITES},
    "audit": {
        "list": by_role(403, admin=200),
        "update": NO_SUCH_ROUTE,
        "delete": NO_SUCH_ROUTE,
    },
}


def created(actors: Actors, who: str, path: str, body: Any) -> dict[str, Any]:
    response = actors.post(who, f"{API}/{path}", body)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def new_authority() -> dict[str, Any]:
    spare = next(_spare_authorities)
    return {"code": spare.code, "name": spare.name, "region": spare.region}


def authority_calls(actors: Actors, who: str) -> list[Call]:
    target = created(actors, "admin", "authorities", new_authority())["code"]
    base = f"{API}/authorities"
    return [
        Call("list", "GET", base),
        Call("get", "GET", f"{base}/{target}"),
        Call("create", "POST", base, new_authority()),
        Call("update", "PATCH", f"{base}/{target}", {"name": "Renamed"}),
        Call("retire", "DELETE", f"{base}/{target}"),
    ]


def provider_calls(actors: Actors, who: str) -> list[Call]:
    spare = created(actors, "admin", "providers", {"name": "Spare"})["id"]
    base = f"{API}/providers"
    own = f"{base}/{actors.provider_a}"
    return [
        Call("list", "GET", base),
        Call("get", "GET", own),
        Call("create", "POST", base, {"name": "New provider"}),
        Call("update", "PATCH", own, {"name": "Northern Refuges"}),
        Call("retire", "DELETE", f"{base}/{spare}"),
    ]


def own_provider(actors: Actors, who: str) -> str:
    return actors.provider_b if who == "provider_b" else actors.provider_a


def scheme_calls(actors: Actors, who: str) -> list[Call]:
    target = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))["id"]
    base = f"{API}/schemes"
    return [
        Call("list", "GET", base),
        Call("get", "GET", f"{base}/{target}"),
        Call("location", "GET", f"{base}/{target}/location"),
        Call("create", "POST", base, scheme_body(own_provider(actors, who))),
        Call("update", "PATCH", f"{base}/{target}", {"accepts_pets": True}),
        Call("retire", "DELETE", f"{base}/{target}"),
    ]


def unit_calls(actors: Actors, who: str) -> list[Call]:
    scheme = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))["id"]
    target = created(actors, "provider_a", "units", unit_body(scheme))["id"]
    base = f"{API}/units"
    return [
        Call("list", "GET", base),
        Call("get", "GET", f"{base}/{target}"),
        Call("create", "POST", base, unit_body(scheme, label="Room 2")),
        Call("update", "PATCH", f"{base}/{target}", {"version": 1, "label": "Room 3"}),
        Call("retire", "DELETE", f"{base}/{target}"),
    ]


def protocol_calls(actors: Actors, who: str) -> list[Call]:
    target = created(actors, "admin", "protocols", protocol_body())["id"]
    base = f"{API}/protocols"
    return [
        Call("list", "GET", base),
        Call("get", "GET", f"{base}/{target}"),
        Call("create", "POST", base, protocol_body(name="Another")),
        Call("update", "PATCH", f"{base}/{target}", {"notice_days": 5}),
        Call("retire", "DELETE", f"{base}/{target}"),
    ]


def rehousing_calls(actors: Actors, who: str) -> list[Call]:
    target = created(actors, "provider_a", "rehousing-options", rehousing_body())["id"]
    base = f"{API}/rehousing-options"
    return [
        Call("list", "GET", base),
        Call("get", "GET", f"{base}/{target}"),
        Call("location", "GET", f"{base}/{target}/location"),
        Call("create", "POST", base, rehousing_body(name="Another option")),
        Call("update", "PATCH", f"{base}/{target}", {"status": "occupied"}),
        Call("retire", "DELETE", f"{base}/{target}"),
    ]


def key_calls(actors: Actors, who: str) -> list[Call]:
    spare = created(actors, "admin", "keys", {"name": "spare", "role": "admin"})["details"]
    body = {"name": "new", "role": "commissioner", "region": "London"}
    return [
        Call("list", "GET", f"{API}/keys"),
        Call("create", "POST", f"{API}/keys", body),
        Call("revoke", "DELETE", f"{API}/keys/{spare['id']}"),
    ]


def audit_calls(actors: Actors, who: str) -> list[Call]:
    return [
        Call("list", "GET", f"{API}/audit"),
        Call("update", "PATCH", f"{API}/audit/1", {"action": "nothing"}),
        Call("delete", "DELETE", f"{API}/audit/1"),
    ]


CALLS: dict[str, Callable[[Actors, str], list[Call]]] = {
    "authorities": authority_calls,
    "providers": provider_calls,
    "schemes": scheme_calls,
    "units": unit_calls,
    "protocols": protocol_calls,
    "rehousing-options": rehousing_calls,
    "keys": key_calls,
    "audit": audit_calls,
}


def matches(status: int, expected: Expected) -> bool:
    return status in expected if isinstance(expected, frozenset) else status == expected


def send(actors: Actors, call: Call, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if call.body is not None:
        kwargs["json"] = call.body
    return actors.client.request(call.method, call.path, **kwargs)


def test_every_family_has_expectations_for_every_call() -> None:
    assert set(CALLS) == set(EXPECTED) == set(FAMILIES)
    for family, table in EXPECTED.items():
        assert all(set(row) == set(ROLES) for row in table.values()), family


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("who", ROLES)
def test_role_on_family(shared_actors: Actors, who: str, family: str) -> None:
    actors = shared_actors
    calls = CALLS[family](actors, who)
    assert [c.op for c in calls] == list(EXPECTED[family])
    got: dict[str, int] = {}
    wrong_audit: list[str] = []
    for call in calls:
        before = audit_total(actors)
        response = send(actors, call, actors.headers(who))
        got[call.op] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith(PROBLEM_JSON), call
        allowed_write = response.status_code < 300 and call.op in AUDITED
        if audit_total(actors) - before != int(allowed_write):
            wrong_audit.append(call.op)
    expected = {op: EXPECTED[family][op][who] for op in got}
    mismatched = {
        op: (got[op], want) for op, want in expected.items() if not matches(got[op], want)
    }
    assert not mismatched, f"{who} on {family}: op -> (got, expected) {mismatched}"
    assert not wrong_audit, f"{who} on {family}: wrong audit trail for {wrong_audit}"


BAD_CREDENTIALS = {
    "missing": None,
    "not bearer": "Basic YWRtaW46YWRtaW4=",
    "empty bearer": "Bearer ",
    "unknown key": "Bearer psk_" + "A" * 43,
    "not a key": "Bearer hello",
}


@pytest.mark.parametrize("credential", [*BAD_CREDENTIALS, "revoked key"])
def test_without_a_valid_key_everything_is_401(shared_actors: Actors, credential: str) -> None:
    actors = shared_actors
    if credential == "revoked key":
        issued = created(actors, "admin", "keys", {"name": "revoked", "role": "admin"})
        revoked = actors.delete("admin", f"{API}/keys/{issued['details']['id']}")
        assert revoked.status_code == 200
        header: str | None = f"Bearer {issued['key']}"
    else:
        header = BAD_CREDENTIALS[credential]
    headers = {} if header is None else {"Authorization": header}
    calls = [call for family in FAMILIES for call in CALLS[family](actors, "admin")]
    before = audit_total(actors)
    for call in calls:
        response = send(actors, call, headers)
        if call.path.startswith(f"{API}/audit/"):  # no such route, whoever asks
            assert response.status_code in (401, 404, 405), call
            continue
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer"), call
    assert audit_total(actors) == before


# -- the cases the issue names, spelt out ----------------------------------------------


def test_provider_cannot_edit_another_providers_unit(shared_actors: Actors) -> None:
    actors = shared_actors
    scheme = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))["id"]
    unit = created(actors, "provider_a", "units", unit_body(scheme))
    path = f"{API}/units/{unit['id']}"
    before = audit_total(actors)
    for response in (
        actors.patch("provider_b", path, {"version": 1, "status": "out_of_service"}),
        actors.patch("provider_b", path, {"version": 1, "label": "Taken over"}),
        actors.delete("provider_b", path),
    ):
        assert_problem(response, 404)
    assert actors.get("admin", path).json() == unit
    assert actors.get("provider_a", path).json() == unit
    assert audit_total(actors) == before
    # The owner's next update still applies at version 1: nothing moved the version on.
    response = actors.patch("provider_a", path, {"version": 1, "label": "Still mine"})
    assert response.status_code == 200, response.text


def test_provider_cannot_see_another_providers_scheme(shared_actors: Actors) -> None:
    actors = shared_actors
    scheme = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))
    before = audit_total(actors)
    assert_problem(actors.get("provider_b", f"{API}/schemes/{scheme['id']}"), 404)
    assert_problem(actors.get("provider_b", f"{API}/schemes/{scheme['id']}/location"), 404)
    listed = actors.get("provider_b", f"{API}/schemes", params={"limit": 500}).json()
    assert scheme["id"] not in [s["id"] for s in listed["items"]]
    assert_problem(actors.patch("provider_b", f"{API}/schemes/{scheme['id']}", {"name": "X"}), 404)
    assert actors.get("admin", f"{API}/schemes/{scheme['id']}").json() == scheme
    assert audit_total(actors) == before


def test_provider_cannot_register_a_scheme_for_another_provider(shared_actors: Actors) -> None:
    actors = shared_actors
    before = actors.get("admin", f"{API}/schemes", params={"limit": 1}).json()["total"]
    response = actors.post("provider_b", f"{API}/schemes", scheme_body(actors.provider_a))
    assert_problem(response, 403)
    assert actors.get("admin", f"{API}/schemes", params={"limit": 1}).json()["total"] == before


@pytest.mark.parametrize("who", ["officer", "integration", "admin", "commissioner"])
def test_nobody_but_the_provider_reads_a_schemes_address(shared_actors: Actors, who: str) -> None:
    actors = shared_actors
    scheme = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))
    before = audit_total(actors)
    response = actors.get(who, f"{API}/schemes/{scheme['id']}/location")
    problem = assert_problem(response, 403)
    assert "Example Road" not in response.text
    assert problem["status"] == 403
    assert audit_total(actors) == before


def test_provider_reads_its_own_schemes_address(shared_actors: Actors) -> None:
    actors = shared_actors
    scheme = created(actors, "provider_a", "schemes", scheme_body(actors.provider_a))
    response = actors.get("provider_a", f"{API}/schemes/{scheme['id']}/location")
    assert response.status_code == 200, response.text
    assert response.json()["address"] == "12 Example Road, Fallowfield, Manchester"
    latest = actors.get("admin", f"{API}/audit", params={"limit": 1}).json()["items"][0]
    assert (latest["action"], latest["record_id"]) == ("read_location", scheme["id"])
    assert latest["actor_role"] == "provider"


@pytest.mark.parametrize("path", ["schemes", "units", "rehousing-options"])
def test_commissioners_see_no_registry_rows(shared_actors: Actors, path: str) -> None:
    assert_problem(shared_actors.get("commissioner", f"{API}/{path}"), 403)
