"""Bad input of every kind: a 4xx RFC 9457 problem naming the field, and nothing written.

Wire-shape errors (wrong type, missing field, unknown enum value or field, out-of-range
number) are 400; well-formed input that breaks a domain rule (a place outside England or
outside its authority, an unknown authority or provider, an impossible protocol) is 422.
"Nothing written" is checked by counting every kind of record, and the audit trail,
before and after; for updates, the record itself must be unchanged too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import (
    API,
    MANCHESTER,
    PROBLEM_JSON,
    STOCKPORT,
    Actors,
    assert_problem,
    protocol_body,
    registry_counts,
    rehousing_body,
    scheme_body,
    unit_body,
)

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
EDINBURGH = {"latitude": 55.95, "longitude": -3.19}
CARDIFF = {"latitude": 51.48, "longitude": -3.18}
STOCKPORT_POINT = {"latitude": 53.4083, "longitude": -2.1494}


@dataclass(frozen=True)
class Targets:
    actors: Actors
    scheme_id: str
    unit_id: str
    option_id: str
    protocol_id: str


@pytest.fixture(scope="module")
def targets(shared_actors: Actors) -> Targets:
    actors = shared_actors
    scheme = actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a)).json()
    unit = actors.post("provider_a", f"{API}/units", unit_body(scheme["id"])).json()
    option = actors.post("provider_a", f"{API}/rehousing-options", rehousing_body()).json()
    protocol = actors.post("admin", f"{API}/protocols", protocol_body()).json()
    return Targets(actors, scheme["id"], unit["id"], option["id"], protocol["id"])


Body = Callable[[Targets], Any]


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


def scheme(**overrides: Any) -> Body:
    return lambda t: scheme_body(t.actors.provider_a, **overrides)


def unit(**overrides: Any) -> Body:
    return lambda t: unit_body(t.scheme_id, **overrides)


def protocol(**overrides: Any) -> Body:
    return lambda _: protocol_body(**overrides)


def option(**overrides: Any) -> Body:
    return lambda _: rehousing_body(**overrides)


def constant(value: Any) -> Body:
    return lambda _: value


@dataclass(frozen=True)
class Case:
    who: str
    method: str
    path: str  # may name {scheme}, {unit}, {option}, {protocol}
    body: Body
    status: int
    field: str


CASES: dict[str, Case] = {
    # -- schemes ----------------------------------------------------------------------
    "scheme wrong type": Case(
        "provider_a", "POST", "schemes", scheme(latitude="north"), 400, "latitude"
    ),
    "scheme bool as text": Case(
        "provider_a", "POST", "schemes", scheme(accepts_nrpf="yes"), 400, "accepts_nrpf"
    ),
    "scheme missing name": Case(
        "provider_a",
        "POST",
        "schemes",
        lambda t: without(scheme_body(t.actors.provider_a), "name"),
        400,
        "name",
    ),
    "scheme missing postcode": Case(
        "provider_a",
        "POST",
        "schemes",
        lambda t: without(scheme_body(t.actors.provider_a), "postcode"),
        400,
        "postcode",
    ),
    "scheme type bed and breakfast": Case(
        "provider_a", "POST", "schemes", scheme(scheme_type="bed_and_breakfast"), 400, "scheme_type"
    ),
    "scheme unknown gender policy": Case(
        "provider_a", "POST", "schemes", scheme(gender_policy="women"), 400, "gender_policy"
    ),
    "scheme unknown support": Case(
        "provider_a", "POST", "schemes", scheme(support=["yoga"]), 400, "support[0]"
    ),
    "scheme unknown field": Case(
        "provider_a", "POST", "schemes", scheme(colour="red"), 400, "colour"
    ),
    "scheme max boy age 18": Case(
        "provider_a", "POST", "schemes", scheme(max_boy_age=18), 400, "max_boy_age"
    ),
    "scheme negative cost": Case(
        "provider_a", "POST", "schemes", scheme(weekly_cost=-1), 400, "weekly_cost"
    ),
    "scheme language not a code": Case(
        "provider_a", "POST", "schemes", scheme(languages=["English"]), 400, "languages[0]"
    ),
    "scheme latitude 95": Case(
        "provider_a", "POST", "schemes", scheme(latitude=95), 400, "latitude"
    ),
    "scheme in Edinburgh": Case(
        "provider_a", "POST", "schemes", scheme(**EDINBURGH), 422, "latitude"
    ),
    "scheme in Cardiff": Case("provider_a", "POST", "schemes", scheme(**CARDIFF), 422, "latitude"),
    "scheme postcode malformed": Case(
        "provider_a", "POST", "schemes", scheme(postcode="ZZ99 ZZZ"), 422, "postcode"
    ),
    "scheme postcode digits": Case(
        "provider_a", "POST", "schemes", scheme(postcode="12345"), 422, "postcode"
    ),
    "scheme postcode too short": Case(
        "provider_a", "POST", "schemes", scheme(postcode="M14"), 400, "postcode"
    ),
    "scheme Welsh postcode": Case(
        "provider_a", "POST", "schemes", scheme(postcode="CF10 1AA"), 422, "postcode"
    ),
    "scheme postcode far from its point": Case(
        "provider_a", "POST", "schemes", scheme(postcode="SW1A 1AA"), 422, "postcode"
    ),
    "scheme point not in its authority": Case(
        "provider_a", "POST", "schemes", scheme(**STOCKPORT_POINT), 422, "authority_code"
    ),
    "scheme unknown authority": Case(
        "provider_a", "POST", "schemes", scheme(authority_code="E08999999"), 422, "authority_code"
    ),
    "scheme authority not a code": Case(
        "provider_a", "POST", "schemes", scheme(authority_code="Manchester"), 400, "authority_code"
    ),
    "scheme unknown provider": Case(
        "admin", "POST", "schemes", lambda _: scheme_body(UNKNOWN_ID), 422, "provider_id"
    ),
    "scheme provider not a uuid": Case(
        "admin", "POST", "schemes", lambda _: scheme_body("provider-a"), 400, "provider_id"
    ),
    "scheme patch to Edinburgh": Case(
        "provider_a", "PATCH", "schemes/{scheme}", constant(EDINBURGH), 422, "latitude"
    ),
    "scheme patch Welsh postcode": Case(
        "provider_a",
        "PATCH",
        "schemes/{scheme}",
        constant({"postcode": "CF10 1AA", "name": "Moved"}),
        422,
        "postcode",
    ),
    "scheme patch provider": Case(
        "admin",
        "PATCH",
        "schemes/{scheme}",
        constant({"provider_id": UNKNOWN_ID}),
        400,
        "provider_id",
    ),
    "scheme patch null name": Case(
        "provider_a", "PATCH", "schemes/{scheme}", constant({"name": None}), 400, "name"
    ),
    # -- units ------------------------------------------------------------------------
    "unit bed spaces as text": Case(
        "provider_a", "POST", "units", unit(bed_spaces="three"), 400, "bed_spaces"
    ),
    "unit bed spaces zero": Case(
        "provider_a", "POST", "units", unit(bed_spaces=0), 400, "bed_spaces"
    ),
    "unit bed spaces negative": Case(
        "provider_a", "POST", "units", unit(bed_spaces=-2), 400, "bed_spaces"
    ),
    "unit bedrooms -1": Case("provider_a", "POST", "units", unit(bedrooms=-1), 400, "bedrooms"),
    "unit bedrooms fractional": Case(
        "provider_a", "POST", "units", unit(bedrooms=1.5), 400, "bedrooms"
    ),
    "unit missing label": Case(
        "provider_a",
        "POST",
        "units",
        lambda t: without(unit_body(t.scheme_id), "label"),
        400,
        "label",
    ),
    "unit unknown status": Case(
        "provider_a", "POST", "units", unit(status="vacant"), 400, "status"
    ),
    "unit unknown access feature": Case(
        "provider_a", "POST", "units", unit(access_features=["lift"]), 400, "access_features[0]"
    ),
    "unit unknown field": Case("provider_a", "POST", "units", unit(rent=100), 400, "rent"),
    "unit bad date": Case(
        "provider_a", "POST", "units", unit(available_from="tomorrow"), 400, "available_from"
    ),
    "unit unknown scheme": Case(
        "provider_a", "POST", "units", lambda _: unit_body(UNKNOWN_ID), 422, "scheme_id"
    ),
    "unit patch bed spaces zero": Case(
        "provider_a",
        "PATCH",
        "units/{unit}",
        constant({"version": 1, "bed_spaces": 0}),
        400,
        "bed_spaces",
    ),
    "unit patch version zero": Case(
        "provider_a",
        "PATCH",
        "units/{unit}",
        constant({"version": 0, "label": "x"}),
        400,
        "version",
    ),
    "unit patch version text": Case(
        "provider_a",
        "PATCH",
        "units/{unit}",
        constant({"version": "one", "label": "x"}),
        400,
        "version",
    ),
    "unit patch version huge": Case(
        "provider_a",
        "PATCH",
        "units/{unit}",
        constant({"version": 10**20, "label": "x"}),
        400,
        "version",
    ),
    "unit patch scheme": Case(
        "provider_a",
        "PATCH",
        "units/{unit}",
        constant({"version": 1, "scheme_id": UNKNOWN_ID}),
        400,
        "scheme_id",
    ),
    # -- protocols --------------------------------------------------------------------
    "protocol one member": Case(
        "admin", "POST", "protocols", protocol(members=[MANCHESTER[0]]), 400, "members"
    ),
    "protocol duplicate members": Case(
        "admin",
        "POST",
        "protocols",
        protocol(members=[MANCHESTER[0], MANCHESTER[0]]),
        422,
        "members",
    ),
    "protocol reciprocal of three": Case(
        "admin",
        "POST",
        "protocols",
        protocol(kind="reciprocal", members=[MANCHESTER[0], STOCKPORT[0], "E09000007"]),
        422,
        "members",
    ),
    "protocol ends before it starts": Case(
        "admin",
        "POST",
        "protocols",
        protocol(starts_on="2025-04-01", ends_on="2025-03-31"),
        422,
        "ends_on",
    ),
    "protocol unknown member": Case(
        "admin",
        "POST",
        "protocols",
        protocol(members=[MANCHESTER[0], "E08999999"]),
        422,
        "members[1]",
    ),
    "protocol unknown kind": Case(
        "admin", "POST", "protocols", protocol(kind="treaty"), 400, "kind"
    ),
    "protocol bad date": Case(
        "admin", "POST", "protocols", protocol(starts_on="April"), 400, "starts_on"
    ),
    "protocol negative cap": Case(
        "admin", "POST", "protocols", protocol(balance_cap=-1), 400, "balance_cap"
    ),
    "protocol patch ends before start": Case(
        "admin",
        "PATCH",
        "protocols/{protocol}",
        constant({"ends_on": "2020-01-01"}),
        422,
        "ends_on",
    ),
    "protocol patch kind": Case(
        "admin", "PATCH", "protocols/{protocol}", constant({"kind": "reciprocal"}), 400, "kind"
    ),
    # -- rehousing options ------------------------------------------------------------
    "option bed spaces zero": Case(
        "provider_a", "POST", "rehousing-options", option(bed_spaces=0), 400, "bed_spaces"
    ),
    "option in Cardiff": Case(
        "provider_a", "POST", "rehousing-options", option(**CARDIFF), 422, "latitude"
    ),
    "option unknown authority": Case(
        "provider_a",
        "POST",
        "rehousing-options",
        option(authority_code="E08999999"),
        422,
        "authority_code",
    ),
    "option unknown condition": Case(
        "provider_a",
        "POST",
        "rehousing-options",
        option(accepts_conditions=["curfew"]),
        400,
        "accepts_conditions[0]",
    ),
    "option unknown risk level": Case(
        "provider_a",
        "POST",
        "rehousing-options",
        option(max_risk_level="extreme"),
        400,
        "max_risk_level",
    ),
    "option patch postcode far from its point": Case(
        "provider_a",
        "PATCH",
        "rehousing-options/{option}",
        constant({"postcode": "LS1 4DY"}),
        422,
        "postcode",
    ),
    "option patch Welsh postcode": Case(
        "provider_a",
        "PATCH",
        "rehousing-options/{option}",
        constant({"postcode": "CF10 1AA"}),
        422,
        "postcode",
    ),
    # -- authorities and providers ----------------------------------------------------
    "authority Welsh code": Case(
        "admin",
        "POST",
        "authorities",
        constant({"code": "W06000015", "name": "Cardiff", "region": "Wales"}),
        400,
        "code",
    ),
    "authority missing region": Case(
        "admin",
        "POST",
        "authorities",
        constant({"code": "E08000001", "name": "Bolton"}),
        400,
        "region",
    ),
    "authority latitude 95": Case(
        "admin",
        "POST",
        "authorities",
        constant({"code": "E08000001", "name": "Bolton", "region": "North West", "latitude": 95}),
        400,
        "latitude",
    ),
    "provider empty name": Case("admin", "POST", "providers", constant({"name": ""}), 400, "name"),
    "provider unknown specialism": Case(
        "admin",
        "POST",
        "providers",
        constant({"name": "P", "specialisms": ["astrology"]}),
        400,
        "specialisms[0]",
    ),
    "provider missing name": Case("admin", "POST", "providers", constant({}), 400, "name"),
    "provider body is a list": Case(
        "admin", "POST", "providers", constant([{"name": "P"}]), 400, "body"
    ),
    "provider body is null": Case("admin", "POST", "providers", constant(None), 400, "body"),
}


def snapshot(t: Targets, path: str) -> dict[str, Any]:
    """Counts of everything, and the record a PATCH would change."""
    state: dict[str, Any] = dict(registry_counts(t.actors))
    if "{" not in path:
        return state
    record = t.actors.get("admin", f"{API}/{resolve(t, path)}")
    assert record.status_code == 200
    state["record"] = record.json()
    return state


def resolve(t: Targets, path: str) -> str:
    return path.format(
        scheme=t.scheme_id, unit=t.unit_id, option=t.option_id, protocol=t.protocol_id
    )


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_body_is_a_problem_naming_the_field(targets: Targets, case: Case) -> None:
    before = snapshot(targets, case.path)
    body = case.body(targets)
    response = targets.actors.client.request(
        case.method,
        f"{API}/{resolve(targets, case.path)}",
        json=body,
        headers=targets.actors.headers(case.who),
    )
    assert_problem(response, case.status, case.field)
    assert snapshot(targets, case.path) == before


def raw_post(t: Targets, path: str, content: bytes) -> Any:
    headers = {**t.actors.headers("admin"), "Content-Type": "application/json"}
    return t.actors.client.post(f"{API}/{path}", content=content, headers=headers)


@pytest.mark.parametrize("path", ["schemes", "units", "protocols"])
def test_malformed_json_is_400(targets: Targets, path: str) -> None:
    before = snapshot(targets, path)
    for content in (b'{"name": "unterminated', b"{not json}", b"\xff\xfe"):
        assert_problem(raw_post(targets, path, content), 400)
    assert snapshot(targets, path) == before


def test_empty_body_is_400_naming_the_body(targets: Targets) -> None:
    before = snapshot(targets, "units")
    problem = assert_problem(raw_post(targets, "units", b""), 400, "body")
    assert problem["errors"][0]["message"] == "a JSON object is required"
    assert snapshot(targets, "units") == before


def test_oversized_body_is_413(targets: Targets) -> None:
    limit = targets.actors.settings.max_body_bytes
    assert limit == 262_144
    before = snapshot(targets, "schemes")
    body = scheme_body(targets.actors.provider_a, name="x" * (limit + 1))
    assert_problem(targets.actors.post("provider_a", f"{API}/schemes", body), 413)
    padded = b'{"name": "' + b" " * (limit + 10) + b'"}'
    assert_problem(raw_post(targets, "providers", padded), 413)
    assert snapshot(targets, "schemes") == before


COLLECTIONS = (
    "authorities",
    "providers",
    "schemes",
    "units",
    "protocols",
    "rehousing-options",
    "keys",
    "audit",
)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**20}, "offset"),
    ],
    ids=["limit=0", "limit=501", "limit=ten", "offset=-1", "offset=huge"],
)
def test_paging_out_of_range_is_400(targets: Targets, params: dict[str, Any], field: str) -> None:
    for collection in COLLECTIONS:
        response = targets.actors.get("admin", f"{API}/{collection}", params=params)
        problem = assert_problem(response, 400, field)
        assert problem["errors"][0]["source"] == "query"
    assert targets.actors.get("admin", f"{API}/units", params={"limit": 500}).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("units", {"status": "vacant"}, "status"),
        ("units", {"scheme_id": "abc"}, "scheme_id"),
        ("units", {"min_bed_spaces": "many"}, "min_bed_spaces"),
        ("units", {"min_bed_spaces": 10**20}, "min_bed_spaces"),
        ("units", {"access_feature": "lift"}, "access_feature"),
        ("schemes", {"scheme_type": "bed_and_breakfast"}, "scheme_type"),
        ("schemes", {"include_retired": "maybe"}, "include_retired"),
        ("protocols", {"kind": "treaty"}, "kind"),
        ("audit", {"since": "last week"}, "since"),
        ("audit", {"actor_key_id": "me"}, "actor_key_id"),
    ],
)
def test_bad_filters_are_400(
    targets: Targets, path: str, params: dict[str, str], field: str
) -> None:
    assert_problem(targets.actors.get("admin", f"{API}/{path}", params=params), 400, field)


@pytest.mark.parametrize(
    "path",
    [
        "schemes/not-a-uuid",
        "schemes/not-a-uuid/location",
        "units/12345",
        "providers/x",
        "protocols/not-a-uuid",
        "rehousing-options/not-a-uuid",
        "keys/not-a-uuid",
        "authorities/not-a-code",
    ],
)
def test_malformed_path_ids_are_4xx_not_500(targets: Targets, path: str) -> None:
    before = snapshot(targets, "units")
    for method in ("GET", "PATCH", "DELETE"):
        response = targets.actors.client.request(
            method, f"{API}/{path}", json={"version": 1}, headers=targets.actors.headers("admin")
        )
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert snapshot(targets, "units") == before


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("POST", "providers", {}, {"name": "Nul\u0000Provider"}),
        ("POST", "authorities", {}, {"code": "E08000001", "name": "B\u0000", "region": "R"}),
        ("GET", "providers", {"q": "a\u0000"}, None),
        ("GET", "schemes", {"authority_code": "E08\u0000"}, None),
        ("GET", "audit", {"record_id": "x\u0000"}, None),
        ("GET", "authorities/E08%00", {}, None),
    ],
    ids=["provider name", "authority name", "q", "filter", "audit filter", "path"],
)
def test_nul_characters_are_never_a_500(
    targets: Targets, method: str, path: str, params: dict[str, str], body: Any
) -> None:
    """PostgreSQL refuses NUL in text (SQLite stores it): either way the answer is not a 500,
    and a refused write writes nothing."""
    before = snapshot(targets, "units")
    response = targets.actors.client.request(
        method,
        f"{API}/{path}",
        params=params,
        json=body,
        headers=targets.actors.headers("admin"),
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
        assert snapshot(targets, "units") == before
