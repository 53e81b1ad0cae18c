"""/api/v1/offers: holding a unit, every transition and the forbidden ones, and who may act.

Tests here share one registry per backend (`shared_actors`) and each works on units and
referrals of its own, so they run in any order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from placement.enums import Role
from tests.conftest import API, MANCHESTER, Actors, app_client, assert_problem
from tests.placing import (
    accept,
    add_scheme,
    add_unit,
    all_keys,
    audit_for,
    create_referral,
    get_offer,
    get_unit,
    make_offer,
    matched_units,
    offer,
    patch_status,
    row_counts,
    unit_status,
)

DECISIONS = ("accept", "decline", "withdraw")
DECIDER = {"accept": "provider_a", "decline": "provider_a", "withdraw": "officer"}
BODY = {"accept": None, "decline": {"reason": "needs_not_met", "note": "no lift"}, "withdraw": None}
OUTCOME = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}
# What each decision leaves: unit status, referral status, placements of the offer.
AFTER = {
    "accept": ("occupied", "placed", 1),
    "decline": ("available", "open", 0),
    "withdraw": ("available", "open", 0),
}


@pytest.fixture(scope="module")
def scheme(shared_actors: Actors) -> dict[str, Any]:
    return add_scheme(shared_actors)


@dataclasses.dataclass
class Held:
    """A live offer of a fresh unit to a fresh referral."""

    actors: Actors
    referral: dict[str, Any]
    unit: dict[str, Any]
    offer: dict[str, Any]

    def decide(self, decision: str, who: str | None = None) -> Any:
        return self.actors.post(
            who or DECIDER[decision],
            f"{API}/offers/{self.offer['id']}/{decision}",
            BODY[decision],
        )

    def state(self) -> tuple[str, str, str]:
        """Offer status, unit status, referral status."""
        return (
            get_offer(self.actors, self.offer["id"])["status"],
            unit_status(self.actors, self.unit["id"]),
            self.actors.get("officer", f"{API}/referrals/{self.referral['id']}").json()["status"],
        )


def hold(actors: Actors, scheme_id: str) -> Held:
    referral = create_referral(actors)
    unit = add_unit(actors, scheme_id)
    return Held(actors, referral, unit, make_offer(actors, referral["id"], unit["id"]))


@pytest.fixture
def held(shared_actors: Actors, scheme: dict[str, Any]) -> Held:
    return hold(shared_actors, scheme["id"])


def placements_of(actors: Actors, offer_id: str) -> int:
    items = actors.get("officer", f"{API}/placements", params={"limit": 500}).json()["items"]
    return sum(1 for p in items if p["offer_id"] == offer_id)


# -- making an offer ---------------------------------------------------------------------


def test_an_offer_holds_the_unit_for_the_hold_period(held: Held) -> None:
    actors, made = held.actors, held.offer
    assert made["status"] == "live" and made["unit_id"] == held.unit["id"]
    assert made["referral_id"] == held.referral["id"] and made["decided_at"] is None
    expires = datetime.fromisoformat(made["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=4))) < timedelta(minutes=1)
    assert held.state() == ("live", "held", "open")
    # Held units are not offered again, and are not matched to anyone.
    other = create_referral(actors)
    again = offer(actors, other["id"], held.unit["id"])
    problem = assert_problem(again, 409)
    assert "is held, not available" in problem["detail"] and problem["unit_status"] == "held"
    assert held.unit["id"] not in matched_units(actors, other["id"])


def test_offers_are_listed_for_the_officer_and_the_units_provider_only(held: Held) -> None:
    actors = held.actors
    mine = {"status": "live", "referral_id": held.referral["id"]}
    for who in ("officer", "provider_a"):
        page = actors.get(who, f"{API}/offers", params=mine).json()
        assert [o["id"] for o in page["items"]] == [held.offer["id"]]
    for who in ("provider_b", "integration"):
        page = actors.get(who, f"{API}/offers", params={"limit": 500}).json()
        assert held.offer["id"] not in {o["id"] for o in page["items"]}
        assert_problem(actors.get(who, f"{API}/offers/{held.offer['id']}"), 404)


def test_the_provider_sees_needs_but_no_place(held: Held) -> None:
    response = held.actors.get("provider_a", f"{API}/offers/{held.offer['id']}")
    assert response.status_code == 200, response.text
    needs = response.json()["household_needs"]
    assert needs["members"] == [
        {"age": 31, "gender": "female", "access_needs": []},
        {"age": 9, "gender": "male", "access_needs": []},
    ]
    assert needs["risk_level"] == "high"
    places = {"latitude", "longitude", "radius_km", "perpetrator_locations", "stay_near"}
    places |= {"home", "school", "avoid_authorities", "reference", "perpetrator_ref"}
    assert not places & set(all_keys(response.json())), response.text
    assert "53.8" not in response.text and held.referral["reference"] not in response.text


@pytest.mark.parametrize(
    ("field", "which"),
    [("referral_id", "unknown"), ("unit_id", "unknown"), ("unit_id", "retired")],
)
def test_offers_for_records_that_do_not_exist_are_422_and_write_nothing(
    shared_actors: Actors, scheme: dict[str, Any], field: str, which: str
) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    unit = add_unit(actors, scheme["id"])
    if which == "retired":
        assert actors.delete("provider_a", f"{API}/units/{unit['id']}").status_code == 200
    body = {"referral_id": referral["id"], "unit_id": unit["id"]}
    if which == "unknown":
        body[field] = "0b5c3c0e-6a55-4b9e-9f55-8f9d3c2b1a00"
    before = row_counts(actors.settings, "offers", "audit_events")

    response = actors.post("officer", f"{API}/offers", body)

    assert_problem(response, 422, field)
    assert row_counts(actors.settings, "offers", "audit_events") == before


def test_another_authoritys_referral_cannot_be_offered_a_unit(
    shared_actors: Actors, scheme: dict[str, Any]
) -> None:
    actors = shared_actors
    theirs = create_referral(actors, "integration")
    unit = add_unit(actors, scheme["id"])
    before = row_counts(actors.settings, "offers", "audit_events")
    assert_problem(offer(actors, theirs["id"], unit["id"]), 422, "referral_id")
    assert row_counts(actors.settings, "offers", "audit_events") == before
    assert unit_status(actors, unit["id"]) == "available"


def test_a_closed_referral_cannot_be_offered_a_unit(
    shared_actors: Actors, scheme: dict[str, Any]
) -> None:
    actors = shared_actors
    referral = create_referral(actors)
    closed = actors.post(
        "officer",
        f"{API}/referrals/{referral['id']}/close",
        {"reason": "x", "unable_reason": "declined_or_withdrew"},
    )
    assert closed.status_code == 200
    unit = add_unit(actors, scheme["id"])
    assert_problem(offer(actors, referral["id"], unit["id"]), 409)
    assert unit_status(actors, unit["id"]) == "available"


@pytest.mark.parametrize(
    "body",
    [{}, {"referral_id": "nope", "unit_id": "nope"}, {"unit_id": None}, {"x": 1}],
    ids=["empty", "not uuids", "null", "unknown field"],
)
def test_malformed_offers_are_400(shared_actors: Actors, body: dict[str, Any]) -> None:
    before = row_counts(shared_actors.settings, "offers", "audit_events")
    assert_problem(shared_actors.post("officer", f"{API}/offers", body), 400)
    assert row_counts(shared_actors.settings, "offers", "audit_events") == before


# -- the matcher's hard rules are checked before a unit is held --------------------------

# A household, the scheme it is offered, and the words the refusal must use.
HARD_RULES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "perpetrator zone covers the unit",
        {"perpetrator_locations": [{"latitude": 53.45, "longitude": -2.22, "radius_km": 5}]},
        {},
        "perpetrator",
    ),
    (
        "boy older than the scheme takes",
        {"members": [{"age": 36, "gender": "female"}, {"age": 15, "gender": "male"}]},
        {"max_boy_age": 14},
        "boy",
    ),
    ("NRPF household, scheme cannot take NRPF", {"nrpf": True}, {"accepts_nrpf": False}, "NRPF"),
    (
        "wheelchair user, no wheelchair access",
        {"members": [{"age": 40, "gender": "female", "access_needs": ["wheelchair"]}]},
        {},
        "access",
    ),
    (
        "authority to avoid",
        {"avoid_authorities": [MANCHESTER[0]]},
        {},
        "authority the household must avoid",
    ),
]


@pytest.mark.parametrize(
    ("needs", "policy", "words"),
    [pytest.param(n, p, w, id=name) for name, n, p, w in HARD_RULES],
)
def test_a_unit_that_breaks_a_hard_rule_cannot_be_offered(
    shared_actors: Actors, needs: dict[str, Any], policy: dict[str, Any], words: str
) -> None:
    actors = shared_actors
    scheme = add_scheme(actors, **policy)
    unit = add_unit(actors, scheme["id"])
    referral = create_referral(actors, **needs)
    offers_before = row_counts(actors.settings, "offers")

    response = offer(actors, referral["id"], unit["id"])

    problem = assert_problem(response, 422, "unit_id")
    assert words in problem["detail"], problem
    assert unit_status(actors, unit["id"]) == "available"
    assert row_counts(actors.settings, "offers") == offers_before
    # The matcher agrees: the unit is not among this household's options.
    assert unit["id"] not in matched_units(actors, referral["id"])


# -- deciding: every transition of a live offer ------------------------------------------


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_live_offer_can_be_decided(held: Held, decision: str) -> None:
    response = held.decide(decision)
    assert response.status_code == 200, response.text
    decided = response.json()["offer"] if decision == "accept" else response.json()
    assert decided["status"] == OUTCOME[decision] and decided["decided_at"]
    unit_after, referral_after, placements = AFTER[decision]
    assert held.state() == (OUTCOME[decision], unit_after, referral_after)
    assert placements_of(held.actors, held.offer["id"]) == placements
    if decision == "decline":
        assert (decided["decline_reason"], decided["decline_note"]) == ("needs_not_met", "no lift")
    if decision == "accept":
        placement = response.json()["placement"]
        assert placement["unit_id"] == held.unit["id"] and placement["moved_out_at"] is None


@pytest.mark.parametrize("first", DECISIONS)
@pytest.mark.parametrize("then", DECISIONS)
def test_a_decided_offer_cannot_be_decided_again(held: Held, first: str, then: str) -> None:
    assert held.decide(first).status_code == 200
    state = held.state()
    version = get_unit(held.actors, held.unit["id"])["version"]

    problem = assert_problem(held.decide(then), 409)

    assert problem["offer_status"] == OUTCOME[first]
    assert f"is {OUTCOME[first]}" in problem["detail"]
    assert held.state() == state
    assert get_unit(held.actors, held.unit["id"])["version"] == version


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"note": "full"}, "reason"),
        ({"reason": "too_far"}, "reason"),
        ({"reason": "other", "note": "x" * 501}, "note"),
        ({"reason": "other", "extra": 1}, "extra"),
    ],
    ids=["no body", "no reason", "unknown reason", "note too long", "unknown field"],
)
def test_a_decline_needs_a_reason_from_the_list(
    held: Held, body: dict[str, Any], field: str
) -> None:
    response = held.actors.post("provider_a", f"{API}/offers/{held.offer['id']}/decline", body)
    assert_problem(response, 400, field)
    assert held.state() == ("live", "held", "open")


@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_another_provider_cannot_see_or_decide_the_offer(held: Held, decision: str) -> None:
    before = row_counts(held.actors.settings, "audit_events", "placements")
    assert_problem(held.decide(decision, who="provider_b"), 404)
    assert row_counts(held.actors.settings, "audit_events", "placements") == before
    assert held.state() == ("live", "held", "open")


@pytest.mark.parametrize(
    ("decision", "who"),
    [
        ("accept", "officer"),
        ("accept", "integration"),
        ("decline", "officer"),
        ("withdraw", "provider_a"),
        ("accept", "commissioner"),
        ("withdraw", "admin"),
    ],
)
def test_the_wrong_role_gets_403(held: Held, decision: str, who: str) -> None:
    assert_problem(held.decide(decision, who=who), 403)
    assert held.state() == ("live", "held", "open")


def test_an_officer_of_another_authority_cannot_withdraw(held: Held) -> None:
    """Stockport's integration: not found. Another Manchester officer's key: may withdraw."""
    assert_problem(held.decide("withdraw", who="integration"), 404)
    assert held.state() == ("live", "held", "open")
    held.actors.keys["colleague"] = held.actors.new_key(
        Role.HOUSING_OFFICER, authority_code=MANCHESTER[0]
    )
    assert held.decide("withdraw", who="colleague").status_code == 200
    assert held.state() == ("withdrawn", "available", "open")


def test_a_unit_is_free_for_a_new_offer_after_a_decline_or_withdrawal(held: Held) -> None:
    assert held.decide("decline").status_code == 200
    other = create_referral(held.actors)
    again = make_offer(held.actors, other["id"], held.unit["id"])
    assert again["status"] == "live"


# -- a household is placed once ----------------------------------------------------------


def test_accepting_one_offer_withdraws_the_households_other_offers(
    shared_actors: Actors, scheme: dict[str, Any]
) -> None:
    """Offers to two refuges at once: the first to accept places the household."""
    actors = shared_actors
    referral = create_referral(actors)
    other_scheme = add_scheme(actors, who="provider_b")
    units = [add_unit(actors, scheme["id"]), add_unit(actors, other_scheme["id"], "provider_b")]
    first, second = (make_offer(actors, referral["id"], unit["id"]) for unit in units)

    accepted = actors.post("provider_b", f"{API}/offers/{second['id']}/accept")

    assert accepted.status_code == 200, accepted.text
    assert get_offer(actors, first["id"])["status"] == "withdrawn"
    assert [unit_status(actors, u["id"]) for u in units] == ["available", "occupied"]
    [event] = [e for e in audit_for(actors, "offer", first["id"]) if e["action"] == "withdrawn"]
    assert event["detail"] == {"reason": f"the household was placed through offer {second['id']}"}
    # The withdrawn offer cannot be accepted: one household, one placement.
    assert_problem(actors.post("provider_a", f"{API}/offers/{first['id']}/accept"), 409)
    assert placements_of(actors, first["id"]) == 0
    assert unit_status(actors, units[0]["id"]) == "available"


def test_closing_a_referral_withdraws_its_offers(held: Held) -> None:
    path = f"{API}/referrals/{held.referral['id']}/close"
    assert (
        held.actors.post(
            "officer",
            path,
            {"reason": "moved in with family", "unable_reason": "declined_or_withdrew"},
        ).status_code
        == 200
    )
    assert held.state() == ("withdrawn", "available", "closed")
    problem = assert_problem(held.decide("accept"), 409)
    assert problem["offer_status"] == "withdrawn"
    assert held.state() == ("withdrawn", "available", "closed")


# -- holds run out -----------------------------------------------------------------------


@pytest.fixture
def instant_expiry(shared_actors: Actors) -> Iterator[Actors]:
    """The same registry through a second app whose holds expire the moment they are made."""
    settings = dataclasses.replace(shared_actors.settings, offer_hold_hours=0)
    with app_client(settings) as client:
        yield dataclasses.replace(shared_actors, client=client)


@pytest.mark.parametrize("decision", DECISIONS)
def test_an_expired_offer_cannot_be_decided(
    instant_expiry: Actors, scheme: dict[str, Any], decision: str
) -> None:
    expired = hold(instant_expiry, scheme["id"])

    problem = assert_problem(expired.decide(decision), 409)

    assert problem["offer_status"] == "expired" and "expired at" in problem["detail"]
    assert placements_of(instant_expiry, expired.offer["id"]) == 0


def test_an_expired_hold_frees_the_unit_for_the_next_offer(
    instant_expiry: Actors, scheme: dict[str, Any]
) -> None:
    first = hold(instant_expiry, scheme["id"])
    second_referral = create_referral(instant_expiry)

    second = make_offer(instant_expiry, second_referral["id"], first.unit["id"])

    assert get_offer(instant_expiry, first.offer["id"])["status"] == "expired"
    assert second["status"] == "live"
    assert unit_status(instant_expiry, first.unit["id"]) == "held"
    live = instant_expiry.get(
        "officer", f"{API}/offers", params={"status": "live", "limit": 500}
    ).json()["items"]
    assert [o["id"] for o in live if o["unit_id"] == first.unit["id"]] == [second["id"]]


# -- the unit's status follows its offer or placement ------------------------------------


@pytest.mark.parametrize("booking", ["live offer", "current placement"])
@pytest.mark.parametrize("status", ["available", "out_of_service"])
def test_a_provider_cannot_set_the_status_of_a_booked_unit(
    held: Held, booking: str, status: str
) -> None:
    if booking == "current placement":
        accept(held.actors, held.offer["id"])
    before = get_unit(held.actors, held.unit["id"])

    problem = assert_problem(patch_status(held.actors, held.unit["id"], status), 409)

    assert booking in problem["detail"]
    assert get_unit(held.actors, held.unit["id"]) == before


def test_other_changes_to_a_booked_unit_are_allowed(held: Held) -> None:
    version = get_unit(held.actors, held.unit["id"])["version"]
    changed = held.actors.patch(
        "provider_a", f"{API}/units/{held.unit['id']}", {"version": version, "label": "Room 9"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "held" and changed.json()["label"] == "Room 9"


def test_once_withdrawn_the_provider_may_set_the_status_again(held: Held) -> None:
    assert held.decide("withdraw").status_code == 200
    response = patch_status(held.actors, held.unit["id"], "out_of_service")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "out_of_service"
