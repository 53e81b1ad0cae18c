"""Where a unit's status may go, and who moves it there.

A provider sets available or out of service (with a reason and, if known, when it is
expected back); only offers make a unit held and only placements make it occupied,
including a provider's own placement of a household that came to it directly. A unit a
household lives in, or is offered, cannot be retired.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import API, MANCHESTER, STOCKPORT, Actors, assert_problem, unit_body
from tests.placing import (
    create_referral,
    get_unit,
    household,
    make_offer,
    new_reference,
    place,
    row_counts,
)

TOMORROW = (date.today() + timedelta(days=1)).isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def patch(actors: Actors, unit_id: str, who: str = "provider_a", **changes: Any) -> Any:
    version = get_unit(actors, unit_id)["version"]
    return actors.patch(who, f"{API}/units/{unit_id}", {"version": version, **changes})


# -- held and occupied come only from offers and placements --------------------------------


@pytest.mark.parametrize("status", ["held", "occupied"])
def test_a_provider_cannot_set_a_unit_held_or_occupied(
    actors: Actors, scheme_a: dict[str, Any], unit_a: dict[str, Any], status: str
) -> None:
    before = row_counts(actors.settings, "units", "audit_events")
    created = actors.post("provider_a", f"{API}/units", unit_body(scheme_a["id"], status=status))
    problem = assert_problem(created, 422, "status")
    assert "offer" in problem["detail"] and "placement" in problem["detail"]
    assert_problem(patch(actors, unit_a["id"], status=status), 422, "status")
    assert_problem(patch(actors, unit_a["id"], who="admin", status=status), 422, "status")
    assert get_unit(actors, unit_a["id"]) == unit_a
    assert row_counts(actors.settings, "units", "audit_events") == before


# -- out of service: why, and until when ---------------------------------------------------


def test_out_of_service_takes_a_reason_and_an_expected_return_shown_in_views(
    actors: Actors, unit_a: dict[str, Any]
) -> None:
    response = patch(
        actors,
        unit_a["id"],
        status="out_of_service",
        out_of_service_reason="repairs",
        expected_back_on=TOMORROW,
    )
    assert response.status_code == 200, response.text
    for who in ("provider_a", "officer", "admin"):
        seen = actors.get(who, f"{API}/units/{unit_a['id']}").json()
        assert (seen["status"], seen["out_of_service_reason"], seen["expected_back_on"]) == (
            "out_of_service",
            "repairs",
            TOMORROW,
        )
    # The reason may change while the unit stays out; the expected date stays.
    changed = patch(actors, unit_a["id"], out_of_service_reason="compromised_location").json()
    assert (changed["out_of_service_reason"], changed["expected_back_on"]) == (
        "compromised_location",
        TOMORROW,
    )
    back = patch(actors, unit_a["id"], status="available").json()
    assert (back["status"], back["out_of_service_reason"], back["expected_back_on"]) == (
        "available",
        None,
        None,
    )


def test_a_new_unit_out_of_service_says_why(actors: Actors, scheme_a: dict[str, Any]) -> None:
    body = unit_body(scheme_a["id"], status="out_of_service", out_of_service_reason="staffing")
    created = actors.post("provider_a", f"{API}/units", body)
    assert created.status_code == 201, created.text
    assert (created.json()["out_of_service_reason"], created.json()["expected_back_on"]) == (
        "staffing",
        None,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "out_of_service"}, "out_of_service_reason"),
        ({"status": "out_of_service", "out_of_service_reason": "flood"}, "out_of_service_reason"),
        (
            {
                "status": "out_of_service",
                "out_of_service_reason": "repairs",
                "expected_back_on": YESTERDAY,
            },
            "expected_back_on",
        ),
        ({"out_of_service_reason": "repairs"}, "out_of_service_reason"),
        ({"expected_back_on": TOMORROW}, "expected_back_on"),
    ],
)
def test_out_of_service_details_that_break_a_rule_are_refused(
    actors: Actors, unit_a: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    before = row_counts(actors.settings, "units", "audit_events")
    response = patch(actors, unit_a["id"], **changes)
    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code, field)
    assert get_unit(actors, unit_a["id"]) == unit_a
    assert row_counts(actors.settings, "units", "audit_events") == before


# -- retiring ------------------------------------------------------------------------------


def test_a_unit_with_a_current_placement_or_a_live_offer_cannot_be_retired(
    actors: Actors, scheme_a: dict[str, Any], unit_a: dict[str, Any]
) -> None:
    placed = place(actors, create_referral(actors)["id"], unit_a["id"])
    offered_unit = actors.post("provider_a", f"{API}/units", unit_body(scheme_a["id"])).json()
    make_offer(actors, create_referral(actors)["id"], offered_unit["id"])
    for unit_id, what in ((unit_a["id"], "a current placement"), (offered_unit["id"], "a live")):
        before = get_unit(actors, unit_id)
        problem = assert_problem(actors.delete("provider_a", f"{API}/units/{unit_id}"), 409)
        assert what in problem["detail"]
        assert get_unit(actors, unit_id) == before
    # Once the household has moved on, the unit can go.
    moved = actors.post(
        "provider_a", f"{API}/placements/{placed['id']}/move-out", {"reason": "other"}
    )
    assert moved.status_code == 200, moved.text
    retired = actors.delete("provider_a", f"{API}/units/{unit_a['id']}")
    assert retired.status_code == 200 and retired.json()["retired_at"]


# -- a provider's own placement -------------------------------------------------------------


def direct_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": new_reference("SELF"),
        "authority_code": STOCKPORT[0],
        "risk_level": "medium",
        "household": household(),
    }
    return body | overrides


def direct(actors: Actors, unit_id: str, who: str = "provider_a", **overrides: Any) -> Any:
    return actors.post(who, f"{API}/units/{unit_id}/direct-placements", direct_body(**overrides))


def test_a_provider_records_a_household_it_placed_itself(
    actors: Actors, unit_a: dict[str, Any]
) -> None:
    response = direct(actors, unit_a["id"], moved_in_on=YESTERDAY)
    assert response.status_code == 201, response.text
    placement = response.json()
    assert (placement["unit_id"], placement["offer_id"], placement["moved_out_at"]) == (
        unit_a["id"],
        None,
        None,
    )
    assert placement["moved_in_at"].startswith(YESTERDAY)
    assert get_unit(actors, unit_a["id"])["status"] == "occupied"
    # The household is a placed referral of the authority it came from, for the reports.
    referral = actors.get("integration", f"{API}/referrals/{placement['referral_id']}").json()
    assert (referral["status"], referral["authority_code"]) == ("placed", STOCKPORT[0])
    ages = [(m["age"], m["gender"]) for m in referral["household"]["members"]]
    assert ages == [(m["age"], m["gender"]) for m in household()["members"]]
    seen = actors.get("provider_a", f"{API}/placements/{placement['id']}").json()
    assert seen == placement
    audited = actors.get(
        "admin", f"{API}/audit", params={"record_type": "placement", "record_id": placement["id"]}
    ).json()["items"]
    assert [(e["action"], e["actor_role"], e["detail"]["direct"]) for e in audited] == [
        ("create", "provider", True)
    ]
    # No placing officer: the address is never revealed through it.
    revealed = actors.post("integration", f"{API}/placements/{placement['id']}/address")
    assert_problem(revealed, 409)
    # The household moves on like any other, and the unit is free again.
    moved = actors.post(
        "provider_a",
        f"{API}/placements/{placement['id']}/move-out",
        {"reason": "settled_social"},
    )
    assert moved.status_code == 200, moved.text
    assert get_unit(actors, unit_a["id"])["status"] == "available"


def test_a_direct_placement_that_breaks_a_rule_writes_nothing(
    actors: Actors, scheme_a: dict[str, Any], unit_a: dict[str, Any]
) -> None:
    held = actors.post("provider_a", f"{API}/units", unit_body(scheme_a["id"])).json()
    make_offer(actors, create_referral(actors)["id"], held["id"])
    taken = new_reference("SELF")
    assert direct(actors, unit_a["id"], reference=taken).status_code == 201
    free = actors.post("provider_a", f"{API}/units", unit_body(scheme_a["id"])).json()
    tables = ("referrals", "placements", "units", "audit_events")
    before = row_counts(actors.settings, *tables)
    refused = [
        (direct(actors, free["id"], who="provider_b"), 404, None),
        (direct(actors, free["id"], who="officer"), 403, None),
        (direct(actors, free["id"], who="admin"), 403, None),
        (direct(actors, held["id"]), 409, None),
        (direct(actors, unit_a["id"]), 409, None),
        (direct(actors, free["id"], reference=taken), 409, None),
        (direct(actors, free["id"], moved_in_on=TOMORROW), 422, "moved_in_on"),
        (direct(actors, free["id"], authority_code="E06009999"), 422, "authority_code"),
        (direct(actors, free["id"], household={"members": []}), 400, "household.members"),
    ]
    for response, status, field in refused:
        assert_problem(response, status, field)
    assert row_counts(actors.settings, *tables) == before
    assert get_unit(actors, free["id"])["status"] == "available"
    assert get_unit(actors, held["id"])["status"] == "held"
    assert MANCHESTER[0] != STOCKPORT[0]
