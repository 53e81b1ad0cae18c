"""POST /api/v1/allocations: a joint proposal for an authority's open referrals; books nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from optimiser.reasons import Reason
from placement.enums import Role, SchemeType
from placement.matching import service
from placement.matching.results import RULES, SCHEME_TYPES
from tests.conftest import (
    API,
    MANCHESTER,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    assert_problem,
    protocol_body,
    rehousing_body,
)
from tests.jobs_support import run_to_the_end
from tests.placing import (
    add_hatters_court,
    add_scheme,
    add_unit,
    audit_for,
    create_referral,
    get_unit,
    matched_units,
    referral_body,
    row_counts,
)

WHEELCHAIR_USER = [{"age": 44, "gender": "female", "access_needs": ["wheelchair"]}]


def allocate(actors: Actors, who: str = "officer", **body: Any) -> dict[str, Any]:
    """The allocation: at once for an authority, a job's result for a group or region."""
    response = actors.post(who, f"{API}/allocations", {"time_limit_s": 10, **body})
    if body.get("scope", "authority") != "authority":
        done = run_to_the_end(actors, response)
        assert done["status"] == "succeeded", done["error"]
        return dict(done["result"])
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def scarce(actors: Actors) -> dict[str, str]:
    """Two units and two households, where first come first served would strand one.

    The wheelchair user fits only the accessible unit; the other household fits both and
    would rank the accessible one first (it is cheaper).
    """
    accessible = add_scheme(actors, name="Level Access House", weekly_cost=300.0)
    other = add_scheme(actors, name="Upstairs House", weekly_cost=650.0)
    return {
        "accessible": add_unit(
            actors, accessible["id"], access_features=["step_free", "wheelchair"]
        )["id"],
        "other": add_unit(actors, other["id"], access_features=[])["id"],
        "wheelchair_user": create_referral(actors, members=WHEELCHAIR_USER)["id"],
        "family": create_referral(actors)["id"],
    }


def test_a_small_allocation_is_optimal_and_places_everyone(
    actors: Actors, scarce: dict[str, str]
) -> None:
    assert matched_units(actors, scarce["family"])[0] == scarce["accessible"]
    assert matched_units(actors, scarce["wheelchair_user"]) == [scarce["accessible"]]
    theirs = create_referral(actors, "integration")  # Stockport's: not in Manchester's run
    closed = create_referral(actors)
    actors.post(
        "officer",
        f"{API}/referrals/{closed['id']}/close",
        {"reason": "withdrew", "unable_reason": "declined_or_withdrew"},
    )
    units_before = {u: get_unit(actors, u) for u in (scarce["accessible"], scarce["other"])}
    booked_before = row_counts(actors.settings, "offers", "placements")

    result = allocate(actors)

    assert result["status"] == "optimal" and result["gap"] == pytest.approx(0.0)
    assert (result["cases"], result["placed"], result["perpetrator_moves"]) == (2, 2, 0)
    proposals = {p["referral_id"]: p for p in result["proposals"]}
    assert set(proposals) == {scarce["wheelchair_user"], scarce["family"]}
    assert theirs["id"] not in proposals and closed["id"] not in proposals
    assert proposals[scarce["wheelchair_user"]]["unit_id"] == scarce["accessible"]
    assert proposals[scarce["family"]]["unit_id"] == scarce["other"]
    for referral_id, proposal in proposals.items():
        assert proposal["kind"] == "unit" and proposal["option_id"] is None
        assert proposal["unit_id"] in matched_units(actors, referral_id)  # feasible
        assert proposal["area"]["postcode_district"] == "M14"
        assert proposal["explanation"] and proposal["priority"] > 0
    # It proposes; it books nothing.
    assert {u: get_unit(actors, u) for u in units_before} == units_before
    assert row_counts(actors.settings, "offers", "placements") == booked_before


def test_only_the_listed_referrals_are_allocated(actors: Actors, scarce: dict[str, str]) -> None:
    result = allocate(actors, referral_ids=[scarce["family"]])
    assert result["cases"] == 1
    [proposal] = result["proposals"]
    assert proposal["referral_id"] == scarce["family"]
    assert proposal["unit_id"] == scarce["accessible"]  # alone, it gets its best unit


def test_a_household_nothing_fits_is_proposed_unplaced(actors: Actors) -> None:
    referral = create_referral(actors)  # no units at all
    result = allocate(actors)
    [proposal] = result["proposals"]
    assert (proposal["referral_id"], proposal["kind"], proposal["unit_id"]) == (
        referral["id"],
        "unplaced",
        None,
    )
    assert result["placed"] == 0 and result["status"] == "optimal"
    assert proposal["unplaced"]["binding"] == "no_suitable_unit"
    assert "No unit was available to check." in proposal["explanation"]


def test_an_unplaced_case_is_told_which_rules_rule_how_many_units_out(actors: Actors) -> None:
    men_only = add_scheme(actors, name="Brook House", gender_policy="men_only")
    add_unit(actors, men_only["id"])
    add_unit(actors, add_scheme(actors)["id"], bed_spaces=1)
    create_referral(actors)  # a woman and her son: two bed spaces, not men-only

    [proposal] = allocate(actors)["proposals"]

    unplaced = proposal["unplaced"]
    assert unplaced["binding"] == "no_suitable_unit"
    assert unplaced["suitable_units"] == 0
    assert unplaced["ruled_out"] == [
        {"rule": "capacity_bed_spaces", "count": 1, "description": "too few bed spaces"},
        {"rule": "gender_policy", "count": 1, "description": "the scheme's gender policy"},
    ]
    assert proposal["explanation"] == (
        "Priority 3.50. Unplaced: no unit or perpetrator-rehousing option meets every rule "
        "for this household. Ruled out: 1 unit for too few bed spaces, 1 unit for the "
        "scheme's gender policy (a unit counts under every rule it breaks)."
    )


def test_a_case_a_reciprocal_cap_keeps_out_is_told_which_cap_by_name(actors: Actors) -> None:
    """Two Manchester households must leave Manchester; the protocol lets Manchester send
    one more than it receives into Stockport, which has two suitable units."""
    protocol = actors.post("admin", f"{API}/protocols", protocol_body(balance_cap=1))
    assert protocol.status_code == 201, protocol.text
    stockport = add_hatters_court(actors)
    units = {add_unit(actors, stockport["id"])["id"] for _ in range(2)}
    for _ in range(2):
        create_referral(actors, avoid_authorities=[MANCHESTER[0]])

    result = allocate(actors)

    assert result["placed"] == 1 and result["status"] == "optimal"
    [placed] = [p for p in result["proposals"] if p["kind"] == "unit"]
    assert placed["unit_id"] in units
    assert (
        "Placed in Room 1 (2 bedrooms) at Hatters Court, a refuge in Stockport (SK1)."
        in (placed["explanation"])
    )
    [proposal] = [p for p in result["proposals"] if p["kind"] == "unplaced"]
    unplaced = proposal["unplaced"]
    assert (unplaced["binding"], unplaced["suitable_units"]) == ("balance_cap", 2)
    assert unplaced["caps"] == [
        {
            "protocol_id": protocol.json()["id"],
            "protocol_name": "GM cross-border protocol",
            "from_authority_code": MANCHESTER[0],
            "from_authority_name": "Manchester",
            "to_authority_code": STOCKPORT[0],
            "to_authority_name": "Stockport",
        }
    ]
    assert (
        "Manchester may place no more into Stockport under GM cross-border protocol"
        in (proposal["explanation"])
    )
    assert "Lifting that cap would let this case be placed." in proposal["explanation"]


def test_a_perpetrator_move_is_proposed_when_it_is_the_way_to_help(actors: Actors) -> None:
    """No unit fits; the perpetrator can be moved to a rehousing option far from her home."""
    option = actors.post(
        "provider_a",
        f"{API}/rehousing-options",
        rehousing_body(
            authority_code=WESTMINSTER[0],
            postcode="SW1P 4DR",
            latitude=51.4930,
            longitude=-0.1370,
        ),
    )
    assert option.status_code == 201, option.text
    referral = create_referral(
        actors,
        body={
            "reference": "MAN-PM-9",
            "risk_level": "medium",
            "household": {
                "members": [{"age": 29, "gender": "female"}],
                "home": {"latitude": 53.41, "longitude": -2.15},
                "perpetrator_move_possible": True,
                "perpetrator_conditions": ["dvpo"],
            },
        },
    )

    result = allocate(actors)

    [proposal] = result["proposals"]
    assert (proposal["referral_id"], proposal["kind"]) == (referral["id"], "perpetrator_move")
    assert (proposal["option_id"], proposal["unit_id"], proposal["area"]) == (
        option.json()["id"],
        None,
        None,
    )
    assert result["perpetrator_moves"] == 1 and result["status"] == "optimal"


def test_an_authority_without_open_referrals_gets_an_empty_proposal(actors: Actors) -> None:
    create_referral(actors)  # Manchester's, not Stockport's
    result = allocate(actors, "integration")
    assert (result["cases"], result["placed"], result["proposals"]) == (0, 0, [])


def test_an_allocation_run_is_audited(shared_actors: Actors) -> None:
    referral = create_referral(shared_actors)
    result = allocate(shared_actors, referral_ids=[referral["id"]])
    [event] = [
        e
        for e in shared_actors.get(
            "admin", f"{API}/audit", params={"record_type": "allocation", "limit": 1}
        ).json()["items"]
    ]
    assert event["action"] == "allocate" and event["actor_role"] == "housing_officer"
    assert event["detail"] == {
        "scope": "authority",
        "cases": 1,
        "authorities": [MANCHESTER[0]],
        "status": result["status"],
        "placed": result["placed"],
    }
    reads = [
        e for e in audit_for(shared_actors, "referral", referral["id"]) if e["action"] == "allocate"
    ]
    assert len(reads) == 1


# -- group and region runs: a joint panel ----------------------------------------------

CHESHIRE_EAST = "E06000049"  # North West, but not in Greater Manchester's group


@pytest.fixture
def panel(actors: Actors) -> dict[str, str]:
    """One unit in Manchester; a standard-risk Manchester household, a high-risk Stockport
    one, and a high-risk one from Cheshire East (same region, no group), all fitting it."""
    created = actors.post(
        "admin",
        f"{API}/authorities",
        {"code": CHESHIRE_EAST, "name": "Cheshire East", "region": "North West"},
    )
    assert created.status_code == 201, created.text
    actors.keys["cheshire"] = actors.new_key(Role.HOUSING_OFFICER, authority_code=CHESHIRE_EAST)
    for protocol in (
        protocol_body(),
        protocol_body(name="M-CE", kind="reciprocal", members=[MANCHESTER[0], CHESHIRE_EAST]),
    ):
        assert actors.post("admin", f"{API}/protocols", protocol).status_code == 201
    unit = add_unit(actors, add_scheme(actors)["id"])["id"]
    referrals = {
        "ours": create_referral(actors, body=referral_body(risk_level="standard"))["id"],
        "stockport": create_referral(
            actors, "integration", body=referral_body("STK-1", risk_level="high")
        )["id"],
        "cheshire": create_referral(
            actors, "cheshire", body=referral_body("CHE-1", risk_level="high")
        )["id"],
    }
    assert unit in matched_units(actors, referrals["stockport"], "integration")
    assert unit in matched_units(actors, referrals["cheshire"], "cheshire")
    return {"unit": unit, **referrals}


def test_alone_an_authority_takes_the_unit_for_its_own_household(
    actors: Actors, panel: dict[str, str]
) -> None:
    result = allocate(actors)
    assert (result["scope"], result["cases"], result["partners"]) == ("authority", 1, [])
    [proposal] = result["proposals"]
    assert (proposal["referral_id"], proposal["unit_id"]) == (panel["ours"], panel["unit"])


@pytest.mark.parametrize(
    ("scope", "partners"),
    [("group", [STOCKPORT[0]]), ("region", sorted([STOCKPORT[0], CHESHIRE_EAST]))],
)
def test_a_group_or_region_run_weighs_partners_cases_and_shows_them_only_as_counts(
    actors: Actors, panel: dict[str, str], scope: str, partners: list[str]
) -> None:
    response = actors.post("officer", f"{API}/allocations", {"scope": scope, "time_limit_s": 10})

    # A joint panel is a long run: a job, whose result is the allocation.
    done = run_to_the_end(actors, response)
    assert (done["kind"], done["status"]) == ("allocation", "succeeded"), done["error"]
    result = done["result"]
    text = json.dumps(done)
    assert (result["scope"], result["cases"], result["placed"]) == (scope, 1 + len(partners), 1)
    # The unit goes to a partner's high-risk household; ours is shown unplaced.
    [proposal] = result["proposals"]
    assert (proposal["referral_id"], proposal["kind"]) == (panel["ours"], "unplaced")
    # Why: the one suitable unit went to a case of higher priority, told as a count.
    assert proposal["unplaced"]["binding"] == "taken"
    assert proposal["unplaced"]["taken_by"] == [{"priority": 3.5, "units": 1}]
    assert proposal["explanation"] == (
        "Priority 1.50. Unplaced: 1 unit meets every rule, and all went to cases of higher "
        "or equal priority: 1 to a case of priority 3.50."
    )
    assert [p["authority_code"] for p in result["partners"]] == partners
    assert sum(p["placed"] for p in result["partners"]) == 1
    assert all(p["cases"] == 1 and p["perpetrator_moves"] == 0 for p in result["partners"])
    for other in ("stockport", "cheshire"):
        assert panel[other] not in text
    assert "STK-1" not in text and "CHE-1" not in text
    [event] = actors.get(
        "admin", f"{API}/audit", params={"record_type": "allocation", "limit": 1}
    ).json()["items"]
    assert event["detail"]["scope"] == scope
    assert event["detail"]["authorities"] == sorted([MANCHESTER[0], *partners])


def test_a_group_run_for_an_authority_in_no_group_is_422(
    actors: Actors, panel: dict[str, str]
) -> None:
    before = row_counts(actors.settings, "audit_events")
    response = actors.post("cheshire", f"{API}/allocations", {"scope": "group"})
    assert_problem(response, 422, "scope")
    assert row_counts(actors.settings, "audit_events") == before


def test_a_region_run_with_more_cases_than_a_run_takes_is_refused_when_asked(
    actors: Actors, panel: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The region holds three open referrals; a run that takes two is refused at once,
    naming the scope, and no job is queued to fail later."""
    monkeypatch.setattr(service, "MAX_ALLOCATION_CASES", 2)
    jobs_before = row_counts(actors.settings, "jobs")
    response = actors.post("officer", f"{API}/allocations", {"scope": "region"})
    assert_problem(response, 422, "scope")
    assert "at most 2 cases a run" in response.text
    assert row_counts(actors.settings, "jobs") == jobs_before
    # Within the limit the same run is queued.
    monkeypatch.setattr(service, "MAX_ALLOCATION_CASES", 3)
    done = run_to_the_end(actors, actors.post("officer", f"{API}/allocations", {"scope": "region"}))
    assert done["status"] == "succeeded", done["error"]


def test_a_group_run_takes_every_open_referral_so_a_list_is_422(
    shared_actors: Actors,
) -> None:
    mine = create_referral(shared_actors)["id"]
    response = shared_actors.post(
        "officer", f"{API}/allocations", {"scope": "region", "referral_ids": [mine]}
    )
    assert_problem(response, 422, "scope")


@pytest.mark.parametrize("which", ["another authority's", "closed", "unknown"])
def test_a_referral_that_is_not_an_open_one_of_yours_is_422(
    shared_actors: Actors, which: str
) -> None:
    actors = shared_actors
    mine = create_referral(actors)["id"]
    if which == "another authority's":
        other = create_referral(actors, "integration")["id"]
    elif which == "closed":
        other = create_referral(actors)["id"]
        actors.post(
            "officer",
            f"{API}/referrals/{other}/close",
            {"reason": "x", "unable_reason": "declined_or_withdrew"},
        )
    else:
        other = "6f1d1d2e-0000-4000-8000-000000000000"
    before = row_counts(actors.settings, "audit_events", "offers")

    response = actors.post(
        "officer", f"{API}/allocations", {"referral_ids": [mine, other], "time_limit_s": 5}
    )

    problem = assert_problem(response, 422, "referral_ids")
    assert other in problem["detail"]
    assert row_counts(actors.settings, "audit_events", "offers") == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"time_limit_s": 121}, "time_limit_s"),
        ({"time_limit_s": "soon"}, "time_limit_s"),
        ({"referral_ids": []}, "referral_ids"),
        ({"referral_ids": ["not-a-uuid"]}, "referral_ids[0]"),
        ({"authority_code": "E08000003"}, "authority_code"),
        ({"scope": "national"}, "scope"),
    ],
    ids=["zero", "too long", "text", "empty list", "not a uuid", "unknown field", "scope"],
)
def test_bad_allocation_requests_are_400(
    shared_actors: Actors, body: dict[str, Any], field: str
) -> None:
    before = row_counts(shared_actors.settings, "audit_events")
    assert_problem(shared_actors.post("officer", f"{API}/allocations", body), 400, field)
    assert row_counts(shared_actors.settings, "audit_events") == before


@pytest.mark.parametrize("who", ["provider_a", "commissioner", "admin"])
def test_only_officers_and_integrations_allocate(shared_actors: Actors, who: str) -> None:
    assert_problem(shared_actors.post(who, f"{API}/allocations", {"time_limit_s": 5}), 403)


def test_every_rule_and_scheme_type_has_words_for_officers() -> None:
    """A new rule or scheme type without words would show its code to an officer."""
    assert set(RULES) == set(Reason)
    assert set(SCHEME_TYPES) == set(SchemeType)


# -- keep-apart: one link for matches and joint runs --------------------------------------


@pytest.mark.parametrize(
    ("stockport_ref", "placed"), [("P-SHARED", 2), (None, 2)], ids=["same text", "no ref"]
)
def test_a_perpetrator_reference_links_cases_only_within_its_authority(
    actors: Actors, protocol_gm: dict[str, Any], stockport_ref: str | None, placed: int
) -> None:
    """Two units in one scheme; a Manchester and a Stockport household whose officers both
    wrote P-SHARED. References are each authority's own, so a group run (as a match) does
    not hold them apart: both are placed."""
    scheme = add_scheme(actors)["id"]
    units = {add_unit(actors, scheme)["id"] for _ in range(2)}
    ours = create_referral(actors, body={**referral_body(), "perpetrator_ref": "P-SHARED"})
    theirs = create_referral(
        actors,
        "integration",
        body={**referral_body("STK-KA"), "perpetrator_ref": stockport_ref},
    )
    assert units <= set(matched_units(actors, ours["id"]))
    assert units <= set(matched_units(actors, theirs["id"], "integration"))

    result = allocate(actors, scope="group")

    assert (result["cases"], result["placed"]) == (2, placed)


def test_cases_of_one_authority_with_one_perpetrator_are_kept_apart_in_a_group_run(
    actors: Actors, protocol_gm: dict[str, Any]
) -> None:
    scheme = add_scheme(actors)["id"]
    for _ in range(2):
        add_unit(actors, scheme)
    for _ in range(2):
        create_referral(actors, body={**referral_body(), "perpetrator_ref": "P-ONE"})
    result = allocate(actors, scope="group")
    assert (result["cases"], result["placed"]) == (2, 1)
