"""Idempotency-Key on every unsafe POST: a retry whose first answer was lost gets it again.

For each call: the retry has the first answer's status and body (marked
`Idempotent-Replayed`) and writes nothing (rows counted straight from the database,
audit events and the registry change feed included); the same key with a different
request is a 409 naming `Idempotency-Key`, writing nothing; two keys are two requests.
Registering a referral, the first call to take the key, is tested in test_referrals.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from placement.enums import Role
from tests.conftest import API, MANCHESTER, Actors, assert_problem
from tests.placing import (
    add_scheme,
    add_unit,
    audit_for,
    create_referral,
    make_offer,
    place,
    row_counts,
    unit_status,
)

WRITTEN = (
    "referrals",
    "offers",
    "placements",
    "audit_events",
    "idempotency_records",
    "registry_changes",
)
MOVE_OUT = {"reason": "settled_social"}
DECLINE = {"reason": "needs_not_met", "note": "no lift to the second floor"}


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def written(actors: Actors) -> dict[str, int]:
    return row_counts(actors.settings, *WRITTEN)


def send(
    actors: Actors, who: str, path: str, body: Any = None, idempotency_key: str = "k"
) -> httpx.Response:
    response: httpx.Response = actors.post(who, path, body, headers=key(idempotency_key))
    return response


def assert_replay_of(first: httpx.Response, again: httpx.Response) -> None:
    """The retry's answer is the first's: status and body, marked as a replay."""
    assert first.status_code < 300, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == first.status_code, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def assert_key_reused(response: httpx.Response) -> None:
    problem = assert_problem(response, 409, "Idempotency-Key")
    assert problem["errors"][0]["source"] == "header"


@pytest.fixture
def unit(shared_actors: Actors) -> str:
    scheme = add_scheme(shared_actors)
    return str(add_unit(shared_actors, scheme["id"])["id"])


@pytest.fixture
def referral(shared_actors: Actors) -> str:
    return str(create_referral(shared_actors)["id"])


@pytest.fixture
def live_offer(shared_actors: Actors, referral: str, unit: str) -> str:
    return str(make_offer(shared_actors, referral, unit)["id"])


@pytest.fixture
def placement(shared_actors: Actors, referral: str, unit: str) -> str:
    return str(place(shared_actors, referral, unit)["id"])


# -- POST /referrals/{id}/close --------------------------------------------------------


@pytest.mark.usefixtures("live_offer")  # closing withdraws it: once, not on the retry
def test_a_retried_close_gets_the_first_answer(shared_actors: Actors, referral: str) -> None:
    path = f"{API}/referrals/{referral}/close"
    first = send(
        shared_actors,
        "officer",
        path,
        {"reason": "moved away", "unable_reason": "declined_or_withdrew"},
        "close-1",
    )
    before = written(shared_actors)

    again = send(
        shared_actors,
        "officer",
        path,
        {"reason": "moved away", "unable_reason": "declined_or_withdrew"},
        "close-1",
    )

    assert first.status_code == 200
    assert_replay_of(first, again)
    assert again.json()["status"] == "closed"
    assert written(shared_actors) == before


def test_a_close_key_reused_with_another_reason_is_a_conflict(
    shared_actors: Actors, referral: str
) -> None:
    path = f"{API}/referrals/{referral}/close"
    assert (
        send(
            shared_actors,
            "officer",
            path,
            {"reason": "moved", "unable_reason": "declined_or_withdrew"},
            "close-2",
        ).status_code
        == 200
    )
    before = written(shared_actors)

    reused = send(
        shared_actors,
        "officer",
        path,
        {"reason": "housed", "unable_reason": "declined_or_withdrew"},
        "close-2",
    )

    assert_key_reused(reused)
    assert written(shared_actors) == before


# -- POST /offers ------------------------------------------------------------------------


def test_a_retried_offer_gets_the_first_offer_and_holds_nothing_twice(
    shared_actors: Actors, referral: str, unit: str
) -> None:
    body = {"referral_id": referral, "unit_id": unit}
    first = send(shared_actors, "officer", f"{API}/offers", body, "offer-1")
    before = written(shared_actors)

    again = send(shared_actors, "officer", f"{API}/offers", body, "offer-1")

    assert first.status_code == 201
    assert_replay_of(first, again)
    assert written(shared_actors) == before
    assert unit_status(shared_actors, unit) == "held"


def test_an_offer_key_reused_for_another_unit_is_a_conflict(
    shared_actors: Actors, referral: str, unit: str
) -> None:
    body = {"referral_id": referral, "unit_id": unit}
    assert send(shared_actors, "officer", f"{API}/offers", body, "offer-2").status_code == 201
    other = add_unit(shared_actors, add_scheme(shared_actors)["id"])["id"]
    before = written(shared_actors)

    reused = send(shared_actors, "officer", f"{API}/offers", {**body, "unit_id": other}, "offer-2")

    assert_key_reused(reused)
    assert written(shared_actors) == before
    assert unit_status(shared_actors, other) == "available"


def test_two_keys_make_two_offers(shared_actors: Actors, referral: str, unit: str) -> None:
    other = add_unit(shared_actors, add_scheme(shared_actors)["id"])["id"]
    made = [
        send(shared_actors, "officer", f"{API}/offers", {"referral_id": referral, "unit_id": u}, k)
        for u, k in ((unit, "offer-3a"), (other, "offer-3b"))
    ]
    assert [r.status_code for r in made] == [201, 201]
    assert made[0].json()["id"] != made[1].json()["id"]
    assert not any("Idempotent-Replayed" in r.headers for r in made)


def test_a_refused_offer_does_not_use_up_its_key(
    shared_actors: Actors, referral: str, unit: str
) -> None:
    bad = {"referral_id": referral, "unit_id": referral}  # no such unit
    assert_problem(send(shared_actors, "officer", f"{API}/offers", bad, "offer-4"), 422, "unit_id")
    good = {"referral_id": referral, "unit_id": unit}
    made = send(shared_actors, "officer", f"{API}/offers", good, "offer-4")
    assert made.status_code == 201 and "Idempotent-Replayed" not in made.headers


# -- accept, decline, withdraw -----------------------------------------------------------


def test_a_retried_acceptance_gets_the_first_placement(
    shared_actors: Actors, live_offer: str, unit: str
) -> None:
    path = f"{API}/offers/{live_offer}/accept"
    first = send(shared_actors, "provider_a", path, None, "accept-1")
    before = written(shared_actors)

    again = send(shared_actors, "provider_a", path, None, "accept-1")

    assert first.status_code == 200
    assert_replay_of(first, again)
    assert again.json()["offer"]["status"] == "accepted"
    assert written(shared_actors) == before
    assert unit_status(shared_actors, unit) == "occupied"


def test_an_acceptance_key_reused_for_another_offer_is_a_conflict(
    shared_actors: Actors, live_offer: str
) -> None:
    assert (
        send(
            shared_actors, "provider_a", f"{API}/offers/{live_offer}/accept", None, "acc-2"
        ).status_code
        == 200
    )
    other_unit = add_unit(shared_actors, add_scheme(shared_actors)["id"])["id"]
    other = make_offer(shared_actors, str(create_referral(shared_actors)["id"]), other_unit)
    before = written(shared_actors)

    reused = send(shared_actors, "provider_a", f"{API}/offers/{other['id']}/accept", None, "acc-2")

    assert_key_reused(reused)
    assert written(shared_actors) == before
    assert unit_status(shared_actors, other_unit) == "held"


def test_a_retried_decline_gets_the_first_answer(
    shared_actors: Actors, live_offer: str, unit: str
) -> None:
    path = f"{API}/offers/{live_offer}/decline"
    first = send(shared_actors, "provider_a", path, DECLINE, "decline-1")
    before = written(shared_actors)

    again = send(shared_actors, "provider_a", path, DECLINE, "decline-1")

    assert_replay_of(first, again)
    assert again.json()["decline_reason"] == DECLINE["reason"]
    assert written(shared_actors) == before
    assert unit_status(shared_actors, unit) == "available"


def test_a_decline_key_reused_with_another_reason_is_a_conflict(
    shared_actors: Actors, live_offer: str
) -> None:
    path = f"{API}/offers/{live_offer}/decline"
    assert send(shared_actors, "provider_a", path, DECLINE, "decline-2").status_code == 200
    before = written(shared_actors)

    reused = send(shared_actors, "provider_a", path, {"reason": "risk_too_high"}, "decline-2")

    assert_key_reused(reused)
    assert written(shared_actors) == before


def test_a_retried_withdrawal_gets_the_first_answer(
    shared_actors: Actors, live_offer: str, unit: str
) -> None:
    path = f"{API}/offers/{live_offer}/withdraw"
    first = send(shared_actors, "officer", path, None, "withdraw-1")
    before = written(shared_actors)

    again = send(shared_actors, "officer", path, None, "withdraw-1")

    assert_replay_of(first, again)
    assert again.json()["status"] == "withdrawn"
    assert written(shared_actors) == before
    assert unit_status(shared_actors, unit) == "available"


def test_a_second_key_does_not_withdraw_twice(shared_actors: Actors, live_offer: str) -> None:
    path = f"{API}/offers/{live_offer}/withdraw"
    assert send(shared_actors, "officer", path, None, "withdraw-2").status_code == 200
    before = written(shared_actors)

    second = send(shared_actors, "officer", path, None, "withdraw-3")

    assert_problem(second, 409)
    assert written(shared_actors) == before


def test_a_withdrawal_key_reused_for_another_call_is_a_conflict(
    shared_actors: Actors, live_offer: str
) -> None:
    assert (
        send(
            shared_actors, "officer", f"{API}/offers/{live_offer}/withdraw", None, "w-4"
        ).status_code
        == 200
    )
    other = make_offer(
        shared_actors,
        str(create_referral(shared_actors)["id"]),
        add_unit(shared_actors, add_scheme(shared_actors)["id"])["id"],
    )
    before = written(shared_actors)

    reused = send(shared_actors, "officer", f"{API}/offers/{other['id']}/withdraw", None, "w-4")

    assert_key_reused(reused)
    assert written(shared_actors) == before


# -- placements: move-out and the one-time address ----------------------------------------


def test_a_retried_move_out_gets_the_first_answer(
    shared_actors: Actors, placement: str, unit: str
) -> None:
    path = f"{API}/placements/{placement}/move-out"
    first = send(shared_actors, "officer", path, MOVE_OUT, "out-1")
    before = written(shared_actors)

    again = send(shared_actors, "officer", path, MOVE_OUT, "out-1")

    assert_replay_of(first, again)
    assert again.json()["move_out_reason"] == MOVE_OUT["reason"]
    assert written(shared_actors) == before
    assert unit_status(shared_actors, unit) == "available"


def test_a_move_out_key_reused_with_another_outcome_is_a_conflict(
    shared_actors: Actors, placement: str
) -> None:
    path = f"{API}/placements/{placement}/move-out"
    assert send(shared_actors, "provider_a", path, MOVE_OUT, "out-2").status_code == 200
    before = written(shared_actors)

    reused = send(shared_actors, "provider_a", path, {"reason": "other"}, "out-2")

    assert_key_reused(reused)
    assert written(shared_actors) == before


def reveals_and_reads(actors: Actors, placement: str) -> tuple[int, int]:
    events = audit_for(actors, "placement", placement)
    actions = [e["action"] for e in events]
    return actions.count("reveal_address"), actions.count("read_address")


def test_a_retried_reveal_shows_the_address_again_as_an_audited_read(
    shared_actors: Actors, placement: str
) -> None:
    path = f"{API}/placements/{placement}/address"
    first = send(shared_actors, "officer", path, None, "reveal-1")
    assert first.status_code == 200, first.text
    assert "Example Road" in first.json()["address"]
    before = written(shared_actors)

    again = send(shared_actors, "officer", path, None, "reveal-1")

    assert_replay_of(first, again)
    # Not a second reveal, but one more sight of the address: one audit event, nothing else.
    assert reveals_and_reads(shared_actors, placement) == (1, 1)
    [read] = [
        e for e in audit_for(shared_actors, "placement", placement) if e["action"] == "read_address"
    ]
    assert read["actor_role"] == "housing_officer"
    assert read["detail"]["retry_of"] == "reveal_address"
    assert written(shared_actors) == before | {"audit_events": before["audit_events"] + 1}
    send(shared_actors, "officer", path, None, "reveal-1")
    assert reveals_and_reads(shared_actors, placement) == (1, 2)


def test_a_new_key_does_not_reveal_the_address_again(shared_actors: Actors, placement: str) -> None:
    path = f"{API}/placements/{placement}/address"
    assert send(shared_actors, "officer", path, None, "reveal-2").status_code == 200
    before = written(shared_actors)

    for second in (
        send(shared_actors, "officer", path, None, "reveal-3"),
        shared_actors.post("officer", path),
    ):
        assert_problem(second, 409)
        assert "Example Road" not in second.text
    assert written(shared_actors) == before
    assert reveals_and_reads(shared_actors, placement) == (1, 0)


def test_a_reveal_key_is_the_api_keys_own(shared_actors: Actors, placement: str) -> None:
    """Another officer of the same authority sending the same string gets no address."""
    path = f"{API}/placements/{placement}/address"
    assert send(shared_actors, "officer", path, None, "reveal-4").status_code == 200
    colleague = shared_actors.new_key(Role.HOUSING_OFFICER, authority_code=MANCHESTER[0])
    response = shared_actors.client.post(
        path, headers={"Authorization": f"Bearer {colleague}", **key("reveal-4")}
    )
    assert_problem(response, 409)
    assert "Example Road" not in response.text
    assert reveals_and_reads(shared_actors, placement) == (1, 0)


def test_a_reveal_key_reused_for_another_placement_is_a_conflict(
    shared_actors: Actors, placement: str
) -> None:
    assert (
        send(
            shared_actors, "officer", f"{API}/placements/{placement}/address", None, "r-5"
        ).status_code
        == 200
    )
    other = place(
        shared_actors,
        str(create_referral(shared_actors)["id"]),
        add_unit(shared_actors, add_scheme(shared_actors)["id"])["id"],
    )
    before = written(shared_actors)

    reused = send(shared_actors, "officer", f"{API}/placements/{other['id']}/address", None, "r-5")

    assert_key_reused(reused)
    assert "Example Road" not in reused.text
    assert written(shared_actors) == before


# -- POST /allocations -------------------------------------------------------------------


def allocation_body(referral: str) -> dict[str, Any]:
    return {"referral_ids": [referral], "time_limit_s": 10}


@pytest.mark.usefixtures("unit")
def test_a_retried_allocation_gets_the_first_run_without_running_again(
    shared_actors: Actors, referral: str
) -> None:
    first = send(shared_actors, "officer", f"{API}/allocations", allocation_body(referral), "run-1")
    before = written(shared_actors)

    again = send(shared_actors, "officer", f"{API}/allocations", allocation_body(referral), "run-1")

    assert first.status_code == 200
    assert_replay_of(first, again)
    [proposal] = again.json()["proposals"]
    assert (proposal["referral_id"], proposal["kind"]) == (referral, "unit")
    # Not solved again: no second run on record, no second read of the household.
    assert written(shared_actors) == before
    runs = audit_for(shared_actors, "allocation", first.json()["run_id"])
    assert [e["action"] for e in runs] == ["allocate"]


def test_two_keys_run_two_allocations(shared_actors: Actors, referral: str) -> None:
    runs = [
        send(shared_actors, "officer", f"{API}/allocations", allocation_body(referral), k)
        for k in ("run-2a", "run-2b")
    ]
    assert [r.status_code for r in runs] == [200, 200]
    assert runs[0].json()["run_id"] != runs[1].json()["run_id"]
    assert not any("Idempotent-Replayed" in r.headers for r in runs)


def test_an_allocation_key_reused_with_another_body_is_a_conflict(
    shared_actors: Actors, referral: str
) -> None:
    body = allocation_body(referral)
    assert send(shared_actors, "officer", f"{API}/allocations", body, "run-3").status_code == 200
    before = written(shared_actors)

    reused = send(
        shared_actors, "officer", f"{API}/allocations", {**body, "time_limit_s": 5}, "run-3"
    )

    assert_key_reused(reused)
    assert written(shared_actors) == before


# -- the header in the OpenAPI document --------------------------------------------------

IDEMPOTENT = (
    "/api/v1/referrals",
    "/api/v1/referrals/{referral_id}/close",
    "/api/v1/offers",
    "/api/v1/offers/{offer_id}/accept",
    "/api/v1/offers/{offer_id}/decline",
    "/api/v1/offers/{offer_id}/withdraw",
    "/api/v1/placements/{placement_id}/address",
    "/api/v1/placements/{placement_id}/move-out",
    "/api/v1/allocations",
    "/api/v1/what-if",
    "/api/v1/simulations",
)


@pytest.mark.parametrize("path", IDEMPOTENT)
def test_the_openapi_documents_the_header(shared_actors: Actors, path: str) -> None:
    document = shared_actors.client.get("/schema/openapi.json").json()
    [header] = [
        p
        for p in document["paths"][path]["post"].get("parameters", [])
        if p["name"] == "Idempotency-Key"
    ]
    assert header["in"] == "header" and header["required"] is False
    assert "first answer" in header["description"]
    assert header["schema"]["maxLength"] == 200
