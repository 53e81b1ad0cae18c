"""/api/v1/referrals: the household document, idempotent POSTs, bad input, scope and audit.

Refused requests are checked against the database itself: no referral, no audit event
and no idempotency record may be written by a request that gets a 4xx.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from placement.enums import Role
from tests.conftest import (
    API,
    MANCHESTER,
    STOCKPORT,
    Actors,
    assert_problem,
)
from tests.placing import (
    add_unit,
    create_referral,
    make_offer,
    new_reference,
    referral_body,
    row_counts,
)

WRITTEN = ("referrals", "audit_events", "idempotency_records")

FULL_HOUSEHOLD: dict[str, Any] = {
    "members": [
        {
            "age": 34,
            "gender": "female",
            "access_needs": ["step_free", "wheelchair"],
            "school": None,
            "trans": False,
            "disabled": True,
        },
        {
            "age": 12,
            "gender": "male",
            "access_needs": [],
            "school": {"latitude": 53.46, "longitude": -2.23, "district": "M14"},
            "trans": None,
            "disabled": None,
        },
        {
            "age": 1,
            "gender": "female",
            "access_needs": [],
            "school": None,
            "trans": None,
            "disabled": False,
        },
    ],
    "nrpf": True,
    "pets": True,
    "space_need": "women_only",
    "languages": ["ur", "pa"],
    "language_essential": True,
    "support_needs": ["mental_health"],
    "support_essential": False,
    # Families flee into England from anywhere in the UK: Glasgow is a valid location.
    "perpetrator_locations": [
        {"latitude": 55.8642, "longitude": -4.2518, "radius_km": 25},
        {"latitude": 53.80, "longitude": -1.55, "radius_km": 0},
    ],
    "avoid_authorities": [STOCKPORT[0]],
    "stay_near": [{"latitude": 53.48, "longitude": -2.24, "label": "sister's flat"}],
    "keep_school": True,
    "home": {"latitude": 53.47, "longitude": -2.25},
    "perpetrator_move_possible": True,
    "perpetrator_conditions": ["dvpo"],
    "preferred_specialisms": ["by_and_for"],
    "needed_by": "2031-05-01",
    "black_and_minoritised": True,
    "lgbtq": None,
}


def written(actors: Actors) -> dict[str, int]:
    return row_counts(actors.settings, *WRITTEN)


# -- the document ------------------------------------------------------------------------


def test_a_full_household_reads_back_exactly_as_sent(actors: Actors) -> None:
    body = {
        "reference": "MAN-2026-00042",
        "risk_level": "medium",
        "marac": True,
        "referred_on": "2026-03-02",
        "perpetrator_ref": "P/77",
        "household": FULL_HOUSEHOLD,
    }
    created = actors.post("officer", f"{API}/referrals", body)
    assert created.status_code == 201, created.text
    referral = created.json()
    assert referral["authority_code"] == MANCHESTER[0]
    assert referral["status"] == "open" and referral["closed_at"] is None
    assert (referral["reference"], referral["risk_level"], referral["marac"]) == (
        "MAN-2026-00042",
        "medium",
        True,
    )
    assert (referral["referred_on"], referral["perpetrator_ref"]) == ("2026-03-02", "P/77")

    read = actors.get("officer", f"{API}/referrals/{referral['id']}")
    assert read.status_code == 200, read.text
    assert read.json()["household"] == FULL_HOUSEHOLD == referral["household"]


def test_defaults_are_filled_in(shared_actors: Actors) -> None:
    actors = shared_actors
    referral = create_referral(
        actors,
        body={
            "reference": "MAN-1",
            "risk_level": "standard",
            "household": {"members": [{"age": 40, "gender": "male"}]},
        },
    )
    document = referral["household"]
    assert document["members"] == [
        {
            "age": 40,
            "gender": "male",
            "access_needs": [],
            "school": None,
            "trans": None,
            "disabled": None,
        }
    ]
    assert document["black_and_minoritised"] is None and document["lgbtq"] is None
    assert document["perpetrator_locations"] == [] and document["nrpf"] is False
    assert referral["marac"] is False and referral["referred_on"]  # today


def test_the_list_is_a_summary_without_household(actors: Actors) -> None:
    ids = {create_referral(actors)["id"] for _ in range(3)}
    page = actors.get("officer", f"{API}/referrals").json()
    assert page["total"] == 3 and {item["id"] for item in page["items"]} == ids
    assert all("household" not in item for item in page["items"])
    filtered = actors.get("officer", f"{API}/referrals", params={"risk_level": "medium"})
    assert filtered.json()["total"] == 0


def test_patch_replaces_top_level_parts_of_the_household(shared_actors: Actors) -> None:
    actors = shared_actors
    referral = create_referral(actors, pets=True)
    changed = actors.patch(
        "officer",
        f"{API}/referrals/{referral['id']}",
        {"risk_level": "standard", "household": {"members": [{"age": 50, "gender": "female"}]}},
    )
    assert changed.status_code == 200, changed.text
    document = actors.get("officer", f"{API}/referrals/{referral['id']}").json()["household"]
    assert document["members"] == [
        {
            "age": 50,
            "gender": "female",
            "access_needs": [],
            "school": None,
            "trans": None,
            "disabled": None,
        }
    ]
    assert document["pets"] is True  # parts not sent are kept
    assert changed.json()["risk_level"] == "standard"
    # A part sent as null is cleared.
    path = f"{API}/referrals/{referral['id']}"
    actors.patch("officer", path, {"household": {"home": {"latitude": 53.4, "longitude": -2.2}}})
    cleared = actors.patch("officer", path, {"household": {"home": None, "nrpf": True}})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["household"]["home"], cleared.json()["household"]["nrpf"]) == (
        None,
        True,
    )
    assert cleared.json()["household"]["members"][0]["age"] == 50


def test_a_closed_referral_cannot_change_or_close_again(shared_actors: Actors) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    path = f"{API}/referrals/{referral['id']}"
    closed = actors.post(
        "officer",
        f"{path}/close",
        {"reason": "rehoused by family", "unable_reason": "declined_or_withdrew"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_reason"]
    before = written(actors)
    assert_problem(actors.patch("officer", path, {"risk_level": "high"}), 409)
    assert_problem(actors.post("officer", f"{path}/close", {"reason": "again"}), 409)
    assert written(actors) == before
    assert actors.get("officer", path).json()["status"] == "closed"


# -- idempotent retries ------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_referral(actors: Actors) -> None:
    body = referral_body()
    key = {"Idempotency-Key": "case-7781-attempt"}
    first = actors.post("integration", f"{API}/referrals", body, headers=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    counts = row_counts(actors.settings, "referrals", "idempotency_records")

    again = actors.post("integration", f"{API}/referrals", body, headers=key)

    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["household"] == first.json()["household"]
    assert row_counts(actors.settings, "referrals", "idempotency_records") == counts
    assert actors.get("integration", f"{API}/referrals").json()["total"] == 1


def test_the_same_key_with_another_body_is_a_conflict(actors: Actors) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert (
        actors.post("integration", f"{API}/referrals", referral_body(), headers=key).status_code
        == 201
    )
    before = written(actors)

    reused = actors.post("integration", f"{API}/referrals", referral_body(), headers=key)

    assert assert_problem(reused, 409)["field"] == "Idempotency-Key"
    assert written(actors) == before


def test_different_keys_create_different_referrals(actors: Actors) -> None:
    ids = {
        actors.post(
            "integration", f"{API}/referrals", referral_body(), headers={"Idempotency-Key": key}
        ).json()["id"]
        for key in ("first", "second")
    }
    assert len(ids) == 2
    assert actors.get("integration", f"{API}/referrals").json()["total"] == 2


def test_keys_belong_to_one_api_key(actors: Actors) -> None:
    """Another integration of the same authority, and an officer elsewhere, reuse the string."""
    actors.keys["integration_2"] = actors.new_key(Role.INTEGRATION, authority_code=STOCKPORT[0])
    key = {"Idempotency-Key": "shared-string"}
    body = referral_body()
    first = actors.post("integration", f"{API}/referrals", body, headers=key)
    other_system = actors.post("integration_2", f"{API}/referrals", referral_body(), headers=key)
    manchester = actors.post("officer", f"{API}/referrals", body, headers=key)

    for response in (first, other_system, manchester):
        assert response.status_code == 201, response.text
        assert "Idempotent-Replayed" not in response.headers
    assert len({r.json()["id"] for r in (first, other_system, manchester)}) == 3
    assert row_counts(actors.settings, "referrals", "idempotency_records") == {
        "referrals": 3,
        "idempotency_records": 3,
    }


def test_a_refused_request_does_not_use_up_its_key(actors: Actors) -> None:
    key = {"Idempotency-Key": "fix-and-retry"}
    bad = referral_body(members=[])
    assert_problem(actors.post("integration", f"{API}/referrals", bad, headers=key), 400)
    good = actors.post("integration", f"{API}/referrals", referral_body(), headers=key)
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


# -- bad input: a 4xx problem naming the field, and nothing written ----------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Set a dotted path (numbers index lists) in the body to `value`."""

    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(name: str) -> Mutation:
    return lambda body: body.pop(name)


BAD_INPUT: list[tuple[str, Mutation, int, str]] = [
    ("no members", _set("household.members", []), 400, "household.members"),
    (
        "perpetrator radius of -1",
        _set("household.perpetrator_locations.0.radius_km", -1),
        400,
        "household.perpetrator_locations[0].radius_km",
    ),
    (
        "unknown authority to avoid",
        _set("household.avoid_authorities", ["E08999999"]),
        422,
        "avoid_authorities[0]",
    ),
    (
        "malformed authority code",
        _set("household.avoid_authorities", ["Manchester"]),
        400,
        "household.avoid_authorities[0]",
    ),
    (
        "perpetrator in New York",
        _set("household.perpetrator_locations.0.latitude", 40.71),
        400,
        "household.perpetrator_locations[0].latitude",
    ),
    (
        "place to stay near in France",
        _set("household.stay_near", [{"latitude": 48.85, "longitude": 2.35, "label": "x"}]),
        400,
        "household.stay_near[0].latitude",
    ),
    ("unknown risk level", _set("risk_level", "extreme"), 400, "risk_level"),
    (
        "unknown gender",
        _set("household.members.0.gender", "unknown"),
        400,
        "household.members[0].gender",
    ),
    (
        "unknown access need",
        _set("household.members.0.access_needs", ["lift"]),
        400,
        "household.members[0].access_needs[0]",
    ),
    ("unknown space need", _set("household.space_need", "men_only"), 400, "household.space_need"),
    (
        "unknown perpetrator condition",
        _set("household.perpetrator_conditions", ["curfew"]),
        400,
        "household.perpetrator_conditions[0]",
    ),
    ("a name", _set("name", "Jane Doe"), 400, "name"),
    ("a surname in the household", _set("household.surname", "Doe"), 400, "household.surname"),
    ("a member's name", _set("household.members.0.name", "Jane"), 400, "household.members[0].name"),
    ("no reference", _drop("reference"), 400, "reference"),
    ("a name as reference", _set("reference", "Jane Doe"), 400, "reference"),
    ("negative age", _set("household.members.0.age", -1), 400, "household.members[0].age"),
    (
        "too many members",
        _set("household.members", [{"age": 30, "gender": "female"}] * 21),
        400,
        "household.members",
    ),
    ("no household", _drop("household"), 400, "household"),
]


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [pytest.param(m, s, f, id=name) for name, m, s, f in BAD_INPUT],
)
def test_bad_referrals_are_refused_and_write_nothing(
    shared_actors: Actors, mutate: Mutation, status: int, field: str
) -> None:
    actors = shared_actors
    body = copy.deepcopy(referral_body())
    mutate(body)
    before = written(actors)

    response = actors.post(
        "integration", f"{API}/referrals", body, headers={"Idempotency-Key": "bad-1"}
    )

    assert_problem(response, status, field)
    assert written(actors) == before


def test_a_2_mb_body_is_413_and_writes_nothing(shared_actors: Actors) -> None:
    actors = shared_actors
    body = referral_body(
        stay_near=[{"latitude": 53.4, "longitude": -2.2, "label": "x" * 40}] * 25_000
    )
    before = written(actors)
    response = actors.post("officer", f"{API}/referrals", body)
    assert len(response.request.content) > 2_000_000
    assert_problem(response, 413)
    assert written(actors) == before


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"reference": "MAN-1"'],
    ids=["empty", "text", "list", "cut"],
)
def test_a_body_that_is_not_a_referral_object_is_400(shared_actors: Actors, content: bytes) -> None:
    actors = shared_actors
    before = written(actors)
    response = actors.client.post(
        f"{API}/referrals",
        content=content,
        headers=actors.headers("officer", {"Content-Type": "application/json"}),
    )
    assert_problem(response, 400)
    assert written(actors) == before


def test_a_duplicate_reference_in_one_authority_is_409(actors: Actors) -> None:
    body = referral_body("MAN-2026-00099")
    create_referral(actors, body=body)
    before = written(actors)
    again = actors.post("officer", f"{API}/referrals", referral_body("MAN-2026-00099"))
    assert assert_problem(again, 409)["field"] == "reference"
    assert written(actors) == before
    # The same reference in another authority is another case.
    assert actors.post("integration", f"{API}/referrals", body).status_code == 201


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"household": {"members": []}}, 400, "household.members"),
        ({"household": {"avoid_authorities": ["E08999999"]}}, 422, "avoid_authorities[0]"),
        ({"risk_level": "extreme"}, 400, "risk_level"),
        ({"reference": "MAN-NEW"}, 400, "reference"),  # a case keeps its reference
        ({"version": 3}, 400, "version"),
    ],
    ids=["no members", "unknown authority", "unknown risk", "reference", "unknown field"],
)
def test_bad_changes_are_refused_and_change_nothing(
    shared_actors: Actors, change: dict[str, Any], status: int, field: str
) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    path = f"{API}/referrals/{referral['id']}"
    before = written(actors)
    assert_problem(actors.patch("officer", path, change), status, field)
    assert written(actors) == before
    after = actors.get("officer", path).json()
    assert after["household"] == referral["household"]
    assert after["risk_level"] == referral["risk_level"]


# -- scope -------------------------------------------------------------------------------

ELSEWHERE = [
    ("GET", "", None),
    ("PATCH", "", {"risk_level": "standard"}),
    ("POST", "/close", {"reason": "not ours"}),
    ("GET", "/matches", None),
    ("GET", "/perpetrator-options", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ELSEWHERE, ids=lambda v: str(v))
def test_another_authoritys_referral_is_not_found(
    shared_actors: Actors, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    """Stockport's integration asks about a Manchester referral: 404, and nothing changes."""
    actors = shared_actors
    referral = create_referral(actors)
    before = written(actors)
    response = actors.client.request(
        method,
        f"{API}/referrals/{referral['id']}{suffix}",
        json=body,
        headers=actors.headers("integration"),
    )
    assert_problem(response, 404)
    assert written(actors) == before
    unchanged = actors.get("officer", f"{API}/referrals/{referral['id']}").json()
    assert (unchanged["status"], unchanged["risk_level"]) == ("open", "high")


def test_officers_list_only_their_authoritys_referrals(actors: Actors) -> None:
    mine = create_referral(actors, "officer")
    theirs = create_referral(actors, "integration")
    assert [r["id"] for r in actors.get("officer", f"{API}/referrals").json()["items"]] == [
        mine["id"]
    ]
    assert [r["id"] for r in actors.get("integration", f"{API}/referrals").json()["items"]] == [
        theirs["id"]
    ]


@pytest.mark.parametrize("who", ["provider_a", "commissioner", "admin"])
@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", ""), ("GET", "/{id}"), ("PATCH", "/{id}"), ("GET", "/{id}/matches")],
)
def test_only_officers_and_integrations_work_with_referrals(
    shared_actors: Actors, who: str, method: str, suffix: str
) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    before = written(actors)
    response = actors.client.request(
        method,
        f"{API}/referrals" + suffix.format(id=referral["id"]),
        json=referral_body() if method == "POST" else {"risk_level": "standard"},
        headers=actors.headers(who),
    )
    assert_problem(response, 403)
    assert written(actors) == before


def test_no_key_is_401(shared_actors: Actors) -> None:
    actors = shared_actors
    response = actors.client.post(f"{API}/referrals", json=referral_body())
    assert_problem(response, 401)


# -- every read of household data is audited --------------------------------------------


def _read_referral(actors: Actors, referral_id: str) -> None:
    assert actors.get("officer", f"{API}/referrals/{referral_id}").status_code == 200


def _read_matches(actors: Actors, referral_id: str) -> None:
    assert actors.get("officer", f"{API}/referrals/{referral_id}/matches").status_code == 200


def _read_perpetrator_options(actors: Actors, referral_id: str) -> None:
    response = actors.get("officer", f"{API}/referrals/{referral_id}/perpetrator-options")
    assert response.status_code == 200


def _allocate(actors: Actors, referral_id: str) -> None:
    response = actors.post(
        "officer", f"{API}/allocations", {"referral_ids": [referral_id], "time_limit_s": 5}
    )
    assert response.status_code == 200, response.text


HOUSEHOLD_READS: list[tuple[str, Callable[[Actors, str], None], str]] = [
    ("referral", _read_referral, "read"),
    ("matches", _read_matches, "match"),
    ("perpetrator options", _read_perpetrator_options, "match"),
    ("allocation", _allocate, "allocate"),
]


def _referral_events(actors: Actors, referral_id: str) -> list[dict[str, Any]]:
    response = actors.get(
        "admin",
        f"{API}/audit",
        params={"record_type": "referral", "record_id": referral_id, "limit": 500},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.mark.parametrize(
    ("read", "action"), [pytest.param(r, a, id=name) for name, r, a in HOUSEHOLD_READS]
)
def test_every_household_read_writes_one_audit_event(
    shared_actors: Actors, read: Callable[[Actors, str], None], action: str
) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    before = _referral_events(actors, referral["id"])

    read(actors, referral["id"])

    after = _referral_events(actors, referral["id"])
    assert len(after) == len(before) + 1
    event = after[0]
    assert (event["action"], event["record_id"], event["actor_role"]) == (
        action,
        referral["id"],
        "housing_officer",
    )


def test_a_provider_reading_needs_through_an_offer_is_audited(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    referral = create_referral(actors)
    unit = add_unit(actors, scheme_a["id"])
    made = make_offer(actors, referral["id"], unit["id"])
    before = _referral_events(actors, referral["id"])

    as_officer = actors.get("officer", f"{API}/offers/{made['id']}")
    assert as_officer.json()["household_needs"] is None
    assert _referral_events(actors, referral["id"]) == before  # no household read

    as_provider = actors.get("provider_a", f"{API}/offers/{made['id']}")
    assert as_provider.json()["household_needs"]["members"][0]["age"] == 31
    after = _referral_events(actors, referral["id"])
    assert len(after) == len(before) + 1
    assert (after[0]["action"], after[0]["actor_role"]) == ("read_needs", "provider")
    assert after[0]["detail"] == {"offer_id": made["id"]}


def test_listing_decrypts_no_household(shared_actors: Actors) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    before = _referral_events(actors, referral["id"])
    assert actors.get("officer", f"{API}/referrals").status_code == 200
    assert _referral_events(actors, referral["id"]) == before


def test_a_reference_is_pseudonymous_text(shared_actors: Actors) -> None:
    """References take letters, digits and / _ -: room for case numbers, not for names."""
    actors = shared_actors
    for reference in ("MAN/2026/7", "mash_14-b", new_reference("GM")):
        assert create_referral(actors, body=referral_body(reference))["reference"] == reference
