"""/api/v1/placements, and the whole flow from referral to move-out.

The address of a refuge is shown to the placing officer once, after the provider has
accepted; every other response describes units by area only.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import API, MANCHESTER, Actors, assert_problem
from tests.placing import (
    accept,
    add_scheme,
    add_unit,
    assert_no_location,
    audit_for,
    create_referral,
    get_unit,
    make_offer,
    matched_units,
    place,
)

MOVE_OUT = {"reason": "settled_social"}


def test_the_whole_flow(actors: Actors, scheme_a: dict[str, Any], unit_a: dict[str, Any]) -> None:
    """Referral, matches, offer, accept, the address once, move-out, matched again."""
    referral = create_referral(actors)

    # Matches: the unit, described by area, with its score in parts; no location at all.
    found = actors.get("officer", f"{API}/referrals/{referral['id']}/matches")
    assert found.status_code == 200, found.text
    assert_no_location(found)
    [option] = found.json()["options"]
    assert option["unit_id"] == unit_a["id"]
    assert option["area"] == {
        "scheme_id": scheme_a["id"],
        "scheme_name": "Fallowfield House",
        "scheme_type": "refuge",
        "authority_code": MANCHESTER[0],
        "authority_name": "Manchester",
        "postcode_district": "M14",
        "unit_label": "Room 1",
        "bedrooms": 2,
    }
    # Score and parts are shown to hundredths, each rounded once.
    slack = 0.005 * (len(option["parts"]) + 1)
    assert option["score"] == pytest.approx(sum(option["parts"].values()), abs=slack)
    assert set(option["parts"]) >= {"perpetrator_distance", "cost", "cross_border"}
    assert option["explanation"].startswith(
        "Room 1 (2 bedrooms) at Fallowfield House, a refuge in Manchester (M14). Meets every rule."
    )

    # Offer, then the provider accepts: a placement, the unit occupied.
    made = make_offer(actors, referral["id"], unit_a["id"])
    assert_no_location(actors.get("provider_a", f"{API}/offers/{made['id']}"))
    accepted = accept(actors, made["id"])
    assert_no_location_in(accepted)
    placement = accepted["placement"]
    assert (placement["referral_id"], placement["unit_id"], placement["offer_id"]) == (
        referral["id"],
        unit_a["id"],
        made["id"],
    )
    assert get_unit(actors, unit_a["id"])["status"] == "occupied"
    assert actors.get("officer", f"{API}/referrals/{referral['id']}").json()["status"] == "placed"

    # The address: once, to the placing officer, audited.
    path = f"{API}/placements/{placement['id']}"
    shown = actors.post("officer", f"{path}/address")
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "placement_id": placement["id"],
        "address": "12 Example Road, Fallowfield, Manchester",
        "postcode": "M14 6AB",
    }
    again = assert_problem(actors.post("officer", f"{path}/address"), 409)
    assert "Example Road" not in str(again) and again["address_revealed_at"]
    reveals = [
        e
        for e in audit_for(actors, "placement", placement["id"])
        if e["action"] == "reveal_address"
    ]
    assert len(reveals) == 1 and reveals[0]["actor_role"] == "housing_officer"
    assert reveals[0]["detail"] == {"unit_id": unit_a["id"]}
    assert actors.get("officer", path).json()["address_revealed_at"]

    # Move-out frees the unit, and the next household's matches show it again.
    out = actors.post("provider_a", f"{path}/move-out", MOVE_OUT)
    assert out.status_code == 200, out.text
    assert out.json()["moved_out_at"] and out.json()["move_out_reason"] == MOVE_OUT["reason"]
    assert get_unit(actors, unit_a["id"])["status"] == "available"
    next_household = create_referral(actors)
    assert matched_units(actors, next_household["id"]) == [unit_a["id"]]


def assert_no_location_in(document: dict[str, Any]) -> None:
    text = str(document)
    assert "Example Road" not in text and "M14 6AB" not in text and "53.444" not in text


# -- the rest share one registry per backend ---------------------------------------------


@pytest.fixture(scope="module")
def scheme(shared_actors: Actors) -> dict[str, Any]:
    return add_scheme(shared_actors)


@pytest.fixture
def placed(shared_actors: Actors, scheme: dict[str, Any]) -> dict[str, Any]:
    referral = create_referral(shared_actors)
    return place(shared_actors, referral["id"], add_unit(shared_actors, scheme["id"])["id"])


@pytest.mark.parametrize(
    ("who", "status"),
    [("provider_a", 403), ("commissioner", 403), ("admin", 403), ("integration", 404)],
)
def test_only_the_placing_authority_sees_the_address(
    shared_actors: Actors, placed: dict[str, Any], who: str, status: int
) -> None:
    path = f"{API}/placements/{placed['id']}"
    problem = assert_problem(shared_actors.post(who, f"{path}/address"), status)
    assert "Example Road" not in str(problem)
    # Still unrevealed: the placing officer gets it.
    assert shared_actors.post("officer", f"{path}/address").status_code == 200


def test_after_move_out_the_address_is_not_shown(
    shared_actors: Actors, placed: dict[str, Any]
) -> None:
    path = f"{API}/placements/{placed['id']}"
    assert shared_actors.post("provider_a", f"{path}/move-out", MOVE_OUT).status_code == 200
    assert_problem(shared_actors.post("officer", f"{path}/address"), 409)
    assert not [
        e
        for e in audit_for(shared_actors, "placement", placed["id"])
        if e["action"] == "reveal_address"
    ]


@pytest.mark.parametrize("who", ["officer", "provider_a"])
def test_move_out_is_recorded_once(shared_actors: Actors, placed: dict[str, Any], who: str) -> None:
    path = f"{API}/placements/{placed['id']}/move-out"
    first = shared_actors.post(who, path, {"reason": "other_safe_accommodation"})
    assert first.status_code == 200, first.text
    assert first.json()["move_out_reason"] == "other_safe_accommodation"
    assert get_unit(shared_actors, placed["unit_id"])["status"] == "available"
    assert_problem(shared_actors.post(who, path, MOVE_OUT), 409)
    after = shared_actors.get("officer", f"{API}/placements/{placed['id']}").json()
    assert after["move_out_reason"] == "other_safe_accommodation"


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("provider_b", MOVE_OUT, 404),
        ("integration", MOVE_OUT, 404),
        ("commissioner", MOVE_OUT, 403),
        ("provider_a", {"reason": "moved_abroad"}, 400),
        ("provider_a", {}, 400),
    ],
    ids=["other provider", "other authority", "commissioner", "unknown outcome", "no outcome"],
)
def test_refused_move_outs_change_nothing(
    shared_actors: Actors, placed: dict[str, Any], who: str, body: dict[str, Any], status: int
) -> None:
    response = shared_actors.post(who, f"{API}/placements/{placed['id']}/move-out", body)
    assert_problem(response, status)
    assert get_unit(shared_actors, placed["unit_id"])["status"] == "occupied"
    current = shared_actors.get("officer", f"{API}/placements/{placed['id']}").json()
    assert current["moved_out_at"] is None


def test_placements_are_listed_for_their_authority_and_provider(
    shared_actors: Actors, placed: dict[str, Any]
) -> None:
    def listed(who: str, **params: Any) -> set[str]:
        page = shared_actors.get(who, f"{API}/placements", params={"limit": 500, **params})
        assert page.status_code == 200, page.text
        return {p["id"] for p in page.json()["items"]}

    assert placed["id"] in listed("officer") and placed["id"] in listed("provider_a")
    assert placed["id"] in listed("officer", current=True)
    assert placed["id"] not in listed("officer", current=False)
    assert placed["id"] not in listed("provider_b") | listed("integration")
    assert_problem(shared_actors.get("integration", f"{API}/placements/{placed['id']}"), 404)
    assert_problem(shared_actors.get("commissioner", f"{API}/placements"), 403)
    path = f"{API}/placements/{placed['id']}/move-out"
    assert shared_actors.post("officer", path, MOVE_OUT).status_code == 200
    assert placed["id"] in listed("provider_a", current=False)
    assert placed["id"] not in listed("provider_a", current=True)


def test_a_moved_out_unit_can_be_offered_again(
    shared_actors: Actors, placed: dict[str, Any]
) -> None:
    path = f"{API}/placements/{placed['id']}/move-out"
    assert shared_actors.post("provider_a", path, MOVE_OUT).status_code == 200
    next_household = create_referral(shared_actors)
    assert placed["unit_id"] in matched_units(shared_actors, next_household["id"])
    again = place(shared_actors, next_household["id"], placed["unit_id"])
    assert again["unit_id"] == placed["unit_id"] and again["id"] != placed["id"]
