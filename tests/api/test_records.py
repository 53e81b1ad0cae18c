"""The records behind the Part 4 reports, through the API: a referral's outcome when it
closes or is placed, why support ended, perpetrator moves booked like placements, and
the clear-column characteristics derived from the household document."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from placement.models import PerpetratorMove, Placement, Referral, ReferralCharacteristics
from tests.conftest import (
    API,
    WESTMINSTER,
    Actors,
    assert_problem,
    audit_events,
    rehousing_body,
    with_connection,
)
from tests.placing import (
    create_referral,
    db_all,
    make_offer,
    matches,
    new_reference,
    place,
    referral_body,
    row_counts,
    settle_reads,
    unit_status,
)

HOME_IN_STOCKPORT = {"latitude": 53.41, "longitude": -2.15}


def close(actors: Actors, referral_id: str, **body: Any) -> Any:
    return actors.post("officer", f"{API}/referrals/{referral_id}/close", {"reason": "x", **body})


def one_row(actors: Actors, stmt: Select[Any]) -> SimpleNamespace:
    """The one row of a query, read straight from the database, by column name."""

    def run(conn: Connection) -> SimpleNamespace:
        return SimpleNamespace(**conn.execute(stmt).mappings().one())

    return with_connection(actors.settings.database_url, run)


def referral_row(actors: Actors, referral_id: str) -> SimpleNamespace:
    return one_row(actors, select(Referral).where(Referral.id == uuid.UUID(referral_id)))


# -- referral outcomes -------------------------------------------------------------------


def test_an_open_referral_closes_only_with_a_reason_it_could_not_be_supported(
    actors: Actors,
) -> None:
    referral = create_referral(actors)
    missing = close(actors, referral["id"])
    assert_problem(missing, 422, "unable_reason")
    unknown = close(actors, referral["id"], unable_reason="ran_out_of_money")
    assert_problem(unknown, 400, "unable_reason")
    assert referral_row(actors, referral["id"]).status == "open"  # nothing half-written

    closed = close(actors, referral["id"], unable_reason="no_space")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["outcome"], body["unable_reason"]) == (
        "closed",
        "unable_to_support",
        "no_space",
    )
    assert body["outcome_at"] == body["closed_at"] and body["unmet_reason_codes"] is None
    [event] = audit_events(actors, record_type="referral", record_id=referral["id"], action="close")
    assert event["detail"] == {"outcome": "unable_to_support", "unable_reason": "no_space"}


def test_needs_not_met_records_the_reasons_of_the_latest_match(
    actors: Actors, unit_a: dict[str, Any]
) -> None:
    # Six people: no unit of the registry (3 bed spaces) can take them.
    members = [{"age": 35, "gender": "female"}] + [{"age": 5, "gender": "female"}] * 5
    referral = create_referral(actors, members=members)
    assert_problem(
        close(actors, referral["id"], unable_reason="needs_not_met"), 422, "unable_reason"
    )

    matched = matches(actors, referral["id"])
    settle_reads(actors)
    assert matched["feasible"] == 0
    expected = sorted(code for code, count in matched["excluded"].items() if count)
    assert expected  # the matcher said why

    closed = close(actors, referral["id"], unable_reason="needs_not_met")
    assert closed.status_code == 200, closed.text
    assert closed.json()["unmet_reason_codes"] == expected
    assert referral_row(actors, referral["id"]).unmet_reason_codes == expected


def test_needs_not_met_is_refused_when_the_latest_match_found_units(
    actors: Actors, unit_a: dict[str, Any]
) -> None:
    referral = create_referral(actors)
    assert matches(actors, referral["id"])["feasible"] == 1
    settle_reads(actors)
    problem = assert_problem(
        close(actors, referral["id"], unable_reason="needs_not_met"), 422, "unable_reason"
    )
    assert "found 1 units" in problem["detail"]
    assert referral_row(actors, referral["id"]).status == "open"


def test_a_placement_records_the_outcome_and_the_accommodation_type(
    actors: Actors, unit_a: dict[str, Any], scheme_a: dict[str, Any]
) -> None:
    referral = create_referral(actors)
    placement = place(actors, referral["id"], unit_a["id"])
    read = actors.get("officer", f"{API}/referrals/{referral['id']}").json()
    assert (read["status"], read["outcome"], read["outcome_scheme_type"]) == (
        "placed",
        "placed",
        scheme_a["scheme_type"],
    )
    assert read["outcome_at"] == placement["moved_in_at"]
    # A placed household was supported: it takes no reason it could not be.
    assert_problem(close(actors, referral["id"], unable_reason="other"), 422, "unable_reason")
    closed = close(actors, referral["id"])
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "placed")


def test_a_direct_placement_records_the_outcome_and_the_characteristics(
    actors: Actors, unit_a: dict[str, Any], scheme_a: dict[str, Any]
) -> None:
    body = {
        "reference": "REF-DIRECT-1",
        "authority_code": WESTMINSTER[0],
        "risk_level": "high",
        "household": {"members": [{"age": 62, "gender": "female", "disabled": True}]},
    }
    response = actors.post("provider_a", f"{API}/units/{unit_a['id']}/direct-placements", body)
    assert response.status_code == 201, response.text
    referral = referral_row(actors, response.json()["referral_id"])
    assert (referral.outcome, referral.outcome_scheme_type) == ("placed", scheme_a["scheme_type"])
    row = one_row(
        actors,
        select(ReferralCharacteristics).where(ReferralCharacteristics.referral_id == referral.id),
    )
    assert (row.women, row.aged_60_plus, row.disabled, row.older_victim) == (1, 1, 1, True)


# -- why support ended -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({"reason": "moved_abroad"}, 400, "reason"), ({}, 400, "reason")],
    ids=["not on the list", "missing"],
)
def test_a_move_out_needs_a_reason_from_the_list(
    actors: Actors, unit_a: dict[str, Any], body: dict[str, Any], status: int, field: str
) -> None:
    placement = place(actors, create_referral(actors)["id"], unit_a["id"])
    path = f"{API}/placements/{placement['id']}/move-out"
    assert_problem(actors.post("provider_a", path, body), status, field)
    assert unit_status(actors, unit_a["id"]) == "occupied"


def test_a_move_out_records_why_support_ended(actors: Actors, unit_a: dict[str, Any]) -> None:
    placement = place(actors, create_referral(actors)["id"], unit_a["id"])
    path = f"{API}/placements/{placement['id']}/move-out"
    out = actors.post("officer", path, {"reason": "settled_private"})
    assert out.status_code == 200, out.text
    assert out.json()["move_out_reason"] == "settled_private"
    [(stored,)] = db_all(
        actors.settings,
        select(Placement.move_out_reason).where(Placement.id == uuid.UUID(placement["id"])),
    )
    assert stored == "settled_private"
    assert unit_status(actors, unit_a["id"]) == "available"


# -- perpetrator moves -------------------------------------------------------------------


@pytest.fixture
def far_option(actors: Actors) -> dict[str, Any]:
    """A rehousing option in Westminster, far from a Stockport home."""
    response = actors.post(
        "provider_a",
        f"{API}/rehousing-options",
        rehousing_body(
            authority_code=WESTMINSTER[0],
            name="Pimlico Rooms",
            postcode="SW1P 4DR",
            latitude=51.4930,
            longitude=-0.1370,
        ),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def movable(actors: Actors, **overrides: Any) -> dict[str, Any]:
    """A referral whose perpetrator could be rehoused instead."""
    household = {
        "members": [{"age": 29, "gender": "female"}],
        "home": HOME_IN_STOCKPORT,
        "perpetrator_move_possible": True,
        "perpetrator_conditions": ["dvpo"],
    } | overrides
    body = {"reference": new_reference(), "risk_level": "medium", "household": household}
    return create_referral(actors, body=body)


def hold(actors: Actors, referral_id: str, option_id: str, who: str = "officer") -> Any:
    return actors.post(
        who, f"{API}/perpetrator-moves", {"referral_id": referral_id, "option_id": option_id}
    )


def option_status(actors: Actors, option_id: str) -> str:
    return str(actors.get("admin", f"{API}/rehousing-options/{option_id}").json()["status"])


def test_a_perpetrator_move_is_held_accepted_and_ended(
    actors: Actors, far_option: dict[str, Any], unit_a: dict[str, Any]
) -> None:
    referral = movable(actors)
    offered = make_offer(actors, referral["id"], unit_a["id"])  # released when the move is
    held = hold(actors, referral["id"], far_option["id"])
    assert held.status_code == 201, held.text
    move = held.json()
    assert move["status"] == "held" and move["accepted_at"] is None
    assert option_status(actors, far_option["id"]) == "occupied"
    # The option is no longer offered to anyone.
    options = actors.get("officer", f"{API}/referrals/{movable(actors)['id']}/perpetrator-options")
    assert options.json()["options"] == []

    accepted = actors.post("officer", f"{API}/perpetrator-moves/{move['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["accepted_at"]
    read = actors.get("officer", f"{API}/referrals/{referral['id']}").json()
    assert (read["status"], read["outcome"]) == ("closed", "perpetrator_moved")
    offer_now = actors.get("officer", f"{API}/offers/{offered['id']}").json()
    assert offer_now["status"] == "withdrawn" and unit_status(actors, unit_a["id"]) == "available"

    # The option's provider sees the move, and records its end.
    seen = actors.get("provider_a", f"{API}/perpetrator-moves").json()
    assert [m["id"] for m in seen["items"]] == [move["id"]]
    ended = actors.post("provider_a", f"{API}/perpetrator-moves/{move['id']}/end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended" and ended.json()["ended_at"]
    assert option_status(actors, far_option["id"]) == "available"
    actions = [e["action"] for e in audit_events(actors, record_type="perpetrator_move")]
    assert actions == ["ended", "accepted", "create"]


def test_one_live_move_per_option_and_per_referral(
    actors: Actors, far_option: dict[str, Any]
) -> None:
    first, second = movable(actors), movable(actors)
    assert hold(actors, first["id"], far_option["id"]).status_code == 201
    before = row_counts(actors.settings, "perpetrator_moves")
    problem = assert_problem(hold(actors, second["id"], far_option["id"]), 409)
    assert problem["option_status"] == "occupied"
    assert_problem(hold(actors, first["id"], far_option["id"]), 409)
    assert row_counts(actors.settings, "perpetrator_moves") == before
    # The provider cannot change the status of a booked option, nor retire it.
    path = f"{API}/rehousing-options/{far_option['id']}"
    assert_problem(actors.patch("provider_a", path, {"status": "available"}), 409)
    assert_problem(actors.delete("provider_a", path), 409)


def test_a_withdrawn_hold_frees_the_option(actors: Actors, far_option: dict[str, Any]) -> None:
    referral = movable(actors)
    move = hold(actors, referral["id"], far_option["id"]).json()
    withdrawn = actors.post("officer", f"{API}/perpetrator-moves/{move['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert option_status(actors, far_option["id"]) == "available"
    # Withdrawn is final; the referral is still open and may be held again.
    assert_problem(actors.post("officer", f"{API}/perpetrator-moves/{move['id']}/accept"), 409)
    assert hold(actors, referral["id"], far_option["id"]).status_code == 201


def test_closing_a_referral_lets_its_held_option_go(
    actors: Actors, far_option: dict[str, Any]
) -> None:
    referral = movable(actors)
    move = hold(actors, referral["id"], far_option["id"]).json()
    assert close(actors, referral["id"], unable_reason="declined_or_withdrew").status_code == 200
    assert option_status(actors, far_option["id"]) == "available"
    assert actors.get("officer", f"{API}/perpetrator-moves/{move['id']}").json()["status"] == (
        "withdrawn"
    )


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("officer", {"option_id": "not-a-uuid"}, 400, "option_id"),
        ("officer", {"option_id": str(uuid.uuid4())}, 422, "option_id"),
        ("officer", {"referral_id": str(uuid.uuid4())}, 422, "referral_id"),
        ("officer", {"extra": 1}, 400, "extra"),
        ("provider_a", {}, 403, None),
        ("commissioner", {}, 403, None),
    ],
    ids=["bad id", "no such option", "no such referral", "unknown field", "provider", "other"],
)
def test_bad_holds_are_refused_and_write_nothing(
    actors: Actors,
    far_option: dict[str, Any],
    who: str,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    referral = movable(actors)
    before = row_counts(actors.settings, "perpetrator_moves")
    full = {"referral_id": referral["id"], "option_id": far_option["id"]} | body
    assert_problem(actors.post(who, f"{API}/perpetrator-moves", full), status, field)
    assert row_counts(actors.settings, "perpetrator_moves") == before
    assert option_status(actors, far_option["id"]) == "available"


def test_an_option_the_rules_rule_out_cannot_be_held(
    actors: Actors, far_option: dict[str, Any]
) -> None:
    referral = create_referral(actors, body=referral_body())  # no perpetrator move possible
    problem = assert_problem(hold(actors, referral["id"], far_option["id"]), 422, "option_id")
    assert "Ruled out" in problem["detail"]
    assert db_all(actors.settings, select(PerpetratorMove.id)) == []
    assert option_status(actors, far_option["id"]) == "available"


def test_another_authority_cannot_see_or_move_a_move(
    actors: Actors, far_option: dict[str, Any]
) -> None:
    move = hold(actors, movable(actors)["id"], far_option["id"]).json()
    assert_problem(actors.get("integration", f"{API}/perpetrator-moves/{move['id']}"), 404)
    assert_problem(actors.post("integration", f"{API}/perpetrator-moves/{move['id']}/accept"), 404)
    assert actors.get("integration", f"{API}/perpetrator-moves").json()["total"] == 0
    assert actors.get("provider_b", f"{API}/perpetrator-moves").json()["total"] == 0


# -- characteristics ---------------------------------------------------------------------


def characteristics(actors: Actors, referral_id: str) -> SimpleNamespace:
    return one_row(
        actors,
        select(ReferralCharacteristics).where(
            ReferralCharacteristics.referral_id == uuid.UUID(referral_id)
        ),
    )


def test_characteristics_follow_the_household_document(actors: Actors) -> None:
    members = [
        {"age": 22, "gender": "female", "trans": True},
        {"age": 45, "gender": "female", "access_needs": ["wheelchair"]},
        {"age": 14, "gender": "male"},
        {"age": 3, "gender": "female", "disabled": True},
    ]
    referral = create_referral(
        actors,
        members=members,
        nrpf=True,
        black_and_minoritised=True,
        support_needs=["substance_use"],
    )
    row = characteristics(actors, referral["id"])
    counts = (row.women, row.men, row.trans_adults, row.other_adults, row.children)
    assert counts == (1, 0, 1, 0, 2)
    bands = (row.aged_0_4, row.aged_12_15, row.aged_18_24, row.aged_45_59, row.aged_60_plus)
    assert bands == (1, 1, 1, 1, 0)
    assert row.disabled == 2 and row.wheelchair_user and row.boy_over_12
    assert (row.nrpf, row.black_and_minoritised, row.lgbtq) == (True, True, False)
    assert (row.substance_use, row.mental_health, row.young_victim, row.male_victim) == (
        True,
        False,
        True,
        False,
    )

    changed = actors.patch(
        "officer",
        f"{API}/referrals/{referral['id']}",
        {"household": {"members": [{"age": 64, "gender": "male"}], "lgbtq": True}},
    )
    assert changed.status_code == 200, changed.text
    row = characteristics(actors, referral["id"])
    assert (row.men, row.children, row.older_victim, row.male_victim, row.lgbtq) == (
        1,
        0,
        True,
        True,
        True,
    )
    assert row.wheelchair_user is False and row.boy_over_12 is False


def test_a_refused_household_change_leaves_the_characteristics(actors: Actors) -> None:
    referral = create_referral(actors)
    before = characteristics(actors, referral["id"])
    bad = actors.patch(
        "officer",
        f"{API}/referrals/{referral['id']}",
        {"household": {"members": [{"age": 30, "gender": "female"}], "lgbtq": "yes"}},
    )
    assert_problem(bad, 400, "household.lgbtq")
    after = characteristics(actors, referral["id"])
    assert (after.women, after.children) == (before.women, before.children) == (1, 1)
