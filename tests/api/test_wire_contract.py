"""The HTTP contract: values only in their declared types, one problem shape, the headers
every response carries, OPTIONS and CORS, throttling, and the OpenAPI document's errors.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.headers import set_headers
from placement.config import Settings
from placement.enums import Role
from tests.conftest import (
    API,
    PROBLEM_JSON,
    Actors,
    app_client,
    assert_problem,
    registry_counts,
    scheme_body,
    unit_body,
    with_connection,
)
from tests.placing import create_referral, new_reference, referral_body

Body = Callable[[Actors, str], tuple[str, str, dict[str, Any]]]


@pytest.fixture(scope="module")
def scheme_id(shared_actors: Actors) -> str:
    actors = shared_actors
    response = actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def referral_total(actors: Actors) -> int:
    """Counted in the database: listing them through the API would add a read audit."""
    count = with_connection(
        actors.settings.database_url,
        lambda conn: conn.execute(text("SELECT count(*) FROM referrals")).scalar_one(),
    )
    return int(count)


def written(actors: Actors) -> dict[str, int]:
    return {**registry_counts(actors), "referrals": referral_total(actors)}


def member_age_as_text(actors: Actors, scheme: str) -> tuple[str, str, dict[str, Any]]:
    body = referral_body()
    body["household"]["members"][0]["age"] = "30"
    return "officer", "referrals", body


LAX_BODIES: dict[str, tuple[Body, str]] = {
    "bed spaces as text": (
        lambda a, s: ("provider_a", "units", unit_body(s, bed_spaces="2")),
        "bed_spaces",
    ),
    "bedrooms as a float": (
        lambda a, s: ("provider_a", "units", unit_body(s, bedrooms=2.0)),
        "bedrooms",
    ),
    "latitude as text": (
        lambda a, s: ("provider_a", "schemes", scheme_body(a.provider_a, latitude="53.444")),
        "latitude",
    ),
    "accepts_nrpf as 1 in text": (
        lambda a, s: ("provider_a", "schemes", scheme_body(a.provider_a, accepts_nrpf="1")),
        "accepts_nrpf",
    ),
    "age as text": (member_age_as_text, "household.members[0].age"),
    "marac as 1": (
        lambda a, s: ("officer", "referrals", {**referral_body(), "marac": 1}),
        "marac",
    ),
    "weekly cost as text": (
        lambda a, s: ("provider_a", "schemes", scheme_body(a.provider_a, weekly_cost="520")),
        "weekly_cost",
    ),
}


@pytest.mark.parametrize("case", list(LAX_BODIES.values()), ids=list(LAX_BODIES))
def test_a_value_not_in_its_declared_type_is_400_and_writes_nothing(
    shared_actors: Actors, scheme_id: str, case: tuple[Body, str]
) -> None:
    make, field = case
    who, path, body = make(shared_actors, scheme_id)
    before = written(shared_actors)
    problem = assert_problem(shared_actors.post(who, f"{API}/{path}", body), 400, field)
    assert problem["errors"][0]["source"] == "body"
    assert written(shared_actors) == before


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("audit", {"since": "0.5"}, "since"),
        ("audit", {"since": "1700000000"}, "since"),
        ("units", {"limit": "2.0"}, "limit"),
        ("units", {"limit": "1e1"}, "limit"),
        ("units", {"offset": "1.0"}, "offset"),
        ("units", {"min_bed_spaces": "2.0"}, "min_bed_spaces"),
        ("units", {"include_retired": "1"}, "include_retired"),
        ("referrals", {"limit": "5.0"}, "limit"),
    ],
)
def test_a_query_value_not_in_its_declared_type_is_400(
    shared_actors: Actors, path: str, params: dict[str, str], field: str
) -> None:
    who = "officer" if path == "referrals" else "admin"
    problem = assert_problem(shared_actors.get(who, f"{API}/{path}", params=params), 400, field)
    assert problem["errors"][0]["source"] == "query"


def test_values_in_their_declared_types_still_pass(shared_actors: Actors) -> None:
    params = {"limit": "5", "offset": "0", "include_retired": "true", "min_bed_spaces": "1"}
    assert shared_actors.get("admin", f"{API}/units", params=params).status_code == 200
    since = {"since": "2025-01-01T00:00:00Z"}
    assert shared_actors.get("admin", f"{API}/audit", params=since).status_code == 200


def test_enum_errors_list_the_allowed_values(shared_actors: Actors, scheme_id: str) -> None:
    body = unit_body(scheme_id, status="vacant")
    problem = assert_problem(shared_actors.post("provider_a", f"{API}/units", body), 400, "status")
    assert "available, held, occupied, out_of_service" in problem["errors"][0]["message"]
    query = shared_actors.get("admin", f"{API}/units", params={"status": "vacant"})
    problem = assert_problem(query, 400, "status")
    assert "available, held, occupied, out_of_service" in problem["errors"][0]["message"]
    nested = referral_body()
    nested["household"]["members"][0]["gender"] = "woman"
    problem = assert_problem(
        shared_actors.post("officer", f"{API}/referrals", nested),
        400,
        "household.members[0].gender",
    )
    assert "female, male, non_binary" in problem["errors"][0]["message"]


def _problem_cases(actors: Actors, scheme: str) -> dict[str, tuple[Any, int]]:
    client = actors.client
    json_headers = {**actors.headers("admin"), "Content-Type": "application/json"}
    unit = actors.post("provider_a", f"{API}/units", unit_body(scheme)).json()
    return {
        "malformed JSON": (
            client.post(f"{API}/providers", content=b"{nope", headers=json_headers),
            400,
        ),
        "wrong type": (actors.post("provider_a", f"{API}/units", unit_body(scheme, cots="1")), 400),
        "bad query": (actors.get("admin", f"{API}/units", params={"limit": "x"}), 400),
        "no key": (client.get(f"{API}/units"), 401),
        "role": (actors.get("provider_a", f"{API}/audit"), 403),
        "unknown path": (actors.get("admin", f"{API}/nothing-here"), 404),
        "out of scope": (
            actors.get("admin", f"{API}/units/00000000-0000-4000-8000-000000000000"),
            404,
        ),
        "method": (actors.client.put(f"{API}/units", headers=actors.headers("admin")), 405),
        "stale version": (
            actors.patch(
                "provider_a", f"{API}/units/{unit['id']}", {"version": 99, "label": "Room 9"}
            ),
            409,
        ),
        "too large": (
            client.post(
                f"{API}/providers",
                content=b'{"name": "' + b"x" * 300_000 + b'"}',
                headers=json_headers,
            ),
            413,
        ),
        "rule": (
            actors.post(
                "provider_a", f"{API}/units", unit_body("00000000-0000-4000-8000-0000000000aa")
            ),
            422,
        ),
    }


def test_every_problem_has_one_shape_and_links_to_its_explanation(
    shared_actors: Actors, scheme_id: str
) -> None:
    page = shared_actors.client.get("/docs/problems")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    anchors = set(re.findall(r'id="([^"]+)"', page.text))
    for name, (response, status) in _problem_cases(shared_actors, scheme_id).items():
        problem = assert_problem(response, status)
        assert set(problem) >= {"type", "title", "status", "detail", "instance", "errors"}, name
        assert problem["instance"] == response.request.url.path, name
        kind_path, _, kind = problem["type"].partition("#")
        assert kind_path == "/docs/problems" and kind in anchors, (name, problem["type"])
        for error in problem["errors"]:
            assert set(error) == {"field", "message", "source"}, (name, error)
        if status in (400, 422):
            assert problem["errors"], name


def test_malformed_json_names_the_body(shared_actors: Actors) -> None:
    headers = {**shared_actors.headers("admin"), "Content-Type": "application/json"}
    response = shared_actors.client.post(f"{API}/providers", content=b"{nope", headers=headers)
    problem = assert_problem(response, 400, "body")
    assert problem["errors"][0]["source"] == "body"
    assert "malformed" in problem["errors"][0]["message"]


def test_a_201_names_the_new_record_in_location(shared_actors: Actors, scheme_id: str) -> None:
    actors = shared_actors
    made = actors.post("provider_a", f"{API}/units", unit_body(scheme_id))
    assert made.status_code == 201
    assert made.headers["location"] == f"{API}/units/{made.json()['id']}"
    assert actors.get("provider_a", made.headers["location"]).json() == made.json()
    referral = actors.post("officer", f"{API}/referrals", referral_body())
    assert referral.headers["location"] == f"{API}/referrals/{referral.json()['id']}"


# -- OPTIONS and CORS ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["units", "referrals", "schemes/00000000-0000-4000-8000-000000000000", "audit"]
)
def test_options_is_204_with_and_without_a_key(shared_actors: Actors, path: str) -> None:
    for headers in ({}, shared_actors.headers("admin"), {"Authorization": "Bearer invented"}):
        response = shared_actors.client.options(f"{API}/{path}", headers=headers)
        assert response.status_code == 204, (path, headers, response.text)
        assert "OPTIONS" in response.headers["allow"]
        assert response.headers["cache-control"] == "no-store"


PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


def test_cors_is_off_by_default(shared_actors: Actors) -> None:
    headers = {"Origin": "https://app.example.org", **PREFLIGHT}
    response = shared_actors.client.options(f"{API}/units", headers=headers)
    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers
    plain = shared_actors.get(
        "admin", f"{API}/units", headers={"Origin": "https://app.example.org"}
    )
    assert "access-control-allow-origin" not in plain.headers


def test_cors_allows_only_the_configured_origins(migrated_settings: Settings) -> None:
    allowed = "https://app.example.org"
    settings = dataclasses.replace(migrated_settings, cors_origins=(allowed,))
    with app_client(settings) as client:
        ok = client.options(f"{API}/units", headers={"Origin": allowed, **PREFLIGHT})
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "authorization" in ok.headers["access-control-allow-headers"].lower()
        other = client.options(
            f"{API}/units", headers={"Origin": "https://evil.example", **PREFLIGHT}
        )
        assert_problem(other, 400, "Origin")
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("asked", "field"),
    [
        ({"Origin": "https://evil.example"}, "Origin"),
        ({"Access-Control-Request-Method": "PUT"}, "Access-Control-Request-Method"),
        ({"Access-Control-Request-Headers": "x-forwarded-user"}, "Access-Control-Request-Headers"),
    ],
    ids=["origin", "method", "header"],
)
def test_a_refused_preflight_is_a_problem_naming_the_header(
    migrated_settings: Settings, asked: dict[str, str], field: str
) -> None:
    allowed = "https://app.example.org"
    settings = dataclasses.replace(migrated_settings, cors_origins=(allowed,))
    with app_client(settings) as client:
        refused = client.options(f"{API}/units", headers={"Origin": allowed, **PREFLIGHT, **asked})
    problem = assert_problem(refused, 400, field)
    assert problem["type"].endswith("#cors")
    assert {e["source"] for e in problem["errors"]} == {"header"}


def test_cors_origins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLACEMENT_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings.from_env().cors_origins == ("https://a.example", "https://b.example")
    monkeypatch.delenv("PLACEMENT_CORS_ORIGINS")
    assert Settings.from_env().cors_origins == ()


# -- headers -----------------------------------------------------------------------------

API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def assert_secure(response: Any, *, api: bool) -> None:
    headers = response.headers
    where = (response.request.method, response.request.url.path, response.status_code)
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] == "no-referrer", where
    assert "frame-ancestors 'none'" in headers["content-security-policy"], where
    assert "server" not in headers, where
    for name in ("x-content-type-options", "referrer-policy", "content-security-policy"):
        assert len(headers.get_list(name)) == 1, (name, where)
    if api:
        assert headers.get_list("cache-control") == ["no-store"], where
        assert headers["content-security-policy"].startswith(API_POLICY), where


def test_every_response_carries_the_security_headers(shared_actors: Actors) -> None:
    actors = shared_actors
    client = actors.client
    for response in (
        actors.get("admin", f"{API}/units"),
        client.get(f"{API}/units"),
        client.get(f"{API}/units", headers={"Authorization": "Bearer invented"}),
        actors.get("admin", f"{API}/no-such-thing"),
        client.get(f"{API}/no-such-thing"),
        client.put(f"{API}/units", headers=actors.headers("admin")),
        actors.get("admin", f"{API}/units", params={"limit": "x"}),
    ):
        assert_secure(response, api=True)
    for path in ("/health", "/docs/problems", "/schema/openapi.json"):
        assert_secure(client.get(path), api=False)
    docs = client.get("/schema").headers["content-security-policy"]
    assert "default-src 'none'" in docs and "script-src 'self'" in docs


def test_a_header_set_on_a_response_replaces_any_of_its_name() -> None:
    """Whatever the case of the name already there, once, with the new value, the other
    headers kept."""
    message: Any = {
        "type": "http.response.start",
        "headers": [
            (b"Cache-Control", b"max-age=60"),
            (b"content-type", b"x"),
            (b"cache-control", b"a"),
        ],
    }
    set_headers(message, {b"cache-control": b"no-store", b"referrer-policy": b"no-referrer"})
    assert message["headers"] == [
        (b"content-type", b"x"),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
    ]


def test_429_says_when_to_retry(migrated_settings: Settings) -> None:
    settings = dataclasses.replace(migrated_settings, rate_limit_per_minute=2)
    with app_client(settings) as client:
        key = Actors(client=client, settings=settings).new_key(Role.ADMIN)
        responses = [
            client.get(f"{API}/units", headers={"Authorization": f"Bearer {key}"}) for _ in range(3)
        ]
    assert [r.status_code for r in responses[:2]] == [200, 200]
    problem = assert_problem(responses[2], 429)
    assert problem["type"] == "/docs/problems#too-many-requests"
    assert 0 < int(responses[2].headers["retry-after"]) <= 60
    assert_secure(responses[2], api=True)


def test_invented_keys_are_throttled_per_address(migrated_settings: Settings) -> None:
    """Every key the worker has not checked yet counts against the client's address (the
    admin's first request among them); once checked, a real key is no longer counted."""
    settings = dataclasses.replace(migrated_settings, unknown_key_rate_limit_per_minute=3)
    with app_client(settings) as client:
        admin = Actors(client=client, settings=settings).new_key(Role.ADMIN)
        good = {"Authorization": f"Bearer {admin}"}
        first = client.get(f"{API}/units", headers=good)
        invented = [
            client.get(f"{API}/units", headers={"Authorization": f"Bearer guess-{n}"})
            for n in range(3)
        ]
        still_good = client.get(f"{API}/units", headers=good)
        no_key = client.get(f"{API}/units")
    assert first.status_code == 200
    assert [r.status_code for r in invented] == [401, 401, 429]
    problem = assert_problem(invented[2], 429)
    assert problem["type"] == "/docs/problems#too-many-requests"
    assert int(invented[2].headers["retry-after"]) > 0
    assert still_good.status_code == 200
    assert no_key.status_code == 401  # refused without a lookup, so not throttled


# -- referrals by their own reference ---------------------------------------------------


def test_a_referral_is_found_by_its_own_reference(actors: Actors) -> None:
    reference = new_reference("MAN")
    mine = create_referral(actors, body=referral_body(reference))
    create_referral(actors)
    # Another authority's case with the same reference is not the officer's.
    create_referral(actors, "integration", body=referral_body(reference))
    found = actors.get("officer", f"{API}/referrals", params={"reference": reference}).json()
    assert [item["id"] for item in found["items"]] == [mine["id"]]
    assert found["total"] == 1
    prefix = actors.get("officer", f"{API}/referrals", params={"reference": reference[:-1]})
    assert prefix.json()["total"] == 0
    theirs = actors.get("integration", f"{API}/referrals", params={"reference": reference})
    assert [item["id"] for item in theirs.json()["items"]] != [mine["id"]]
    assert theirs.json()["total"] == 1


# -- the OpenAPI document ---------------------------------------------------------------

ALWAYS = {"401", "403", "429", "503"}


@pytest.fixture(scope="module")
def openapi(shared_actors: Actors) -> dict[str, Any]:
    response = shared_actors.client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        if path.startswith(API)
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def test_every_operation_documents_its_problems(openapi: dict[str, Any]) -> None:
    problem_ref = "#/components/schemas/Problem"
    ops = operations(openapi)
    assert len(ops) > 40
    for path, method, operation in ops:
        responses = operation["responses"]
        expected = set(ALWAYS)
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("400")
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "422"}
        if method != "get":
            expected |= {"409", "422"}
        assert expected <= set(responses), (method, path, expected - set(responses))
        for status in expected:
            content = responses[status]["content"]
            assert set(content) == {PROBLEM_JSON}, (method, path, status)
            assert content[PROBLEM_JSON]["schema"] == {"$ref": problem_ref}, (method, path, status)
            assert responses[status]["description"], (method, path, status)
        created = responses.get("201")
        if created is not None:
            assert "Location" in created.get("headers", {}), (method, path)


def test_the_problem_schema_is_documented(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance", "errors"}
    assert problem["description"]
    for name, field in problem["properties"].items():
        assert field.get("description"), name
    error = schemas["FieldError"]
    assert set(error["required"]) == {"field", "message", "source"}
    source = error["properties"]["source"]
    reference = source["allOf"][0]["$ref"] if "allOf" in source else source["$ref"]
    source_schema = schemas[reference.rsplit("/", 1)[1]]
    assert set(source_schema["enum"]) == {"body", "query", "path", "header"}


def test_the_problem_types_page_needs_no_key(client: TestClient[Any]) -> None:
    response = client.get("/docs/problems")
    assert response.status_code == 200
    assert 'id="validation"' in response.text


def test_the_main_request_bodies_show_an_example_the_api_takes(openapi: dict[str, Any]) -> None:
    from api import examples
    from api.authorities import AuthorityCreate
    from api.keys import KeyCreate
    from api.perpetrator_links import PerpetratorLinkCreate
    from api.protocols import ProtocolCreate
    from api.providers import ProviderCreate
    from api.rehousing import RehousingCreate
    from api.schemes import SchemeCreate
    from api.units import UnitCreate, UnitUpdate
    from placement.referrals import ReferralCreate

    bodies = {
        ("post", "/api/v1/authorities"): (examples.AUTHORITY, AuthorityCreate),
        ("post", "/api/v1/providers"): (examples.PROVIDER, ProviderCreate),
        ("post", "/api/v1/schemes"): (examples.SCHEME, SchemeCreate),
        ("post", "/api/v1/units"): (examples.UNIT, UnitCreate),
        ("patch", "/api/v1/units/{unit_id}"): (examples.UNIT_CHANGE, UnitUpdate),
        ("post", "/api/v1/protocols"): (examples.PROTOCOL, ProtocolCreate),
        ("post", "/api/v1/rehousing-options"): (examples.REHOUSING, RehousingCreate),
        ("post", "/api/v1/keys"): (examples.KEY, KeyCreate),
        ("post", "/api/v1/referrals"): (examples.REFERRAL, ReferralCreate),
        ("post", "/api/v1/perpetrator-links"): (examples.PERPETRATOR_LINK, PerpetratorLinkCreate),
    }
    for (method, path), (value, kind) in bodies.items():
        content = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert content["schema"]["examples"] == [value], (method, path)
        msgspec.json.decode(msgspec.json.encode(value), type=kind)  # strictly valid


def test_every_schema_and_field_is_described_and_enums_list_their_values(
    openapi: dict[str, Any],
) -> None:
    for name, schema in openapi["components"]["schemas"].items():
        assert schema.get("description"), name
        for field, prop in schema.get("properties", {}).items():
            assert prop.get("description"), (name, field)
        if schema.get("type") == "string" and "enum" in schema:
            assert schema["enum"], name
    assert openapi["components"]["schemas"]["UnitStatus"]["enum"] == [
        "available",
        "held",
        "occupied",
        "out_of_service",
    ]


# -- Allow and path parameters, for every operation of the document -----------------------

SAMPLE = {"code": "E08000003"}
NIL = "00000000-0000-4000-8000-000000000000"


def concrete(path: str) -> str:
    """A documented path with a well-formed value for each parameter."""
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), NIL), path)


def test_options_allows_every_documented_method_of_each_path(
    shared_actors: Actors, openapi: dict[str, Any]
) -> None:
    """Litestar's own OPTIONS listed only the methods of a path's first handler (`/units`
    answered `OPTIONS, POST`, not GET)."""
    for path, item in openapi["paths"].items():
        if not path.startswith(API):
            continue
        documented = {method.upper() for method in item if method != "parameters"}
        response = shared_actors.client.options(concrete(path))
        assert response.status_code == 204, (path, response.text)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert allowed == documented | {"OPTIONS"}, path


def with_bad_ids(path: str, ids: list[str]) -> str:
    """The path with `not-a-uuid` for each of `ids` and a well-formed id elsewhere."""
    return re.sub(r"\{(\w+)\}", lambda m: "not-a-uuid" if m.group(1) in ids else NIL, path)


def test_a_malformed_id_in_a_path_is_a_400_naming_the_parameter(
    shared_actors: Actors, openapi: dict[str, Any]
) -> None:
    """Each operation with an id in its path, for each role: a 400 naming the path
    parameter (or, for an operation with a body, which is checked first, the body's
    fault), or for a role that may not call it at all a 403; never a 404 or 5xx."""
    before = written(shared_actors)
    for path, method, operation in operations(openapi):
        ids = [
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "path" and p["schema"].get("format") == "uuid"
        ]
        if not ids:
            continue
        url = with_bad_ids(path, ids)
        statuses = set()
        for who in ("admin", "officer", "provider_a"):
            response = shared_actors.client.request(
                method.upper(), url, json={}, headers=shared_actors.headers(who)
            )
            statuses.add(response.status_code)
            if response.status_code == 400 and "requestBody" in operation:
                assert_problem(response, 400)
            elif response.status_code == 400:
                problem = assert_problem(response, 400, ids[0])
                named = [e for e in problem["errors"] if e["field"] == ids[0]]
                assert named[0]["source"] == "path", problem
            else:
                assert_problem(response, 403)
        assert 400 in statuses, (method, path, statuses)
    assert written(shared_actors) == before
