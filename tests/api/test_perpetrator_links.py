"""/api/v1/perpetrator-links: a link two authorities confirm keeps their households apart.

Manchester (the `officer` key) and Stockport (the `integration` key) each know the same
perpetrator under their own reference. Until Stockport confirms Manchester's proposed
link, their households are not kept apart; once it does, they are, in a match and in a
group allocation run alike; withdrawn, they are not again.
"""

from __future__ import annotations

from typing import Any

import pytest

from placement.enums import Role
from tests.conftest import (
    API,
    MANCHESTER,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    assert_problem,
    audit_events,
)
from tests.jobs_support import run_to_the_end
from tests.placing import (
    add_scheme,
    add_unit,
    create_referral,
    make_offer,
    matches,
    referral_body,
    row_counts,
)

LINKS = f"{API}/perpetrator-links"
OURS, THEIRS = "MAN-P-0193", "STK/PERP/2211"


def link_body(**overrides: Any) -> dict[str, Any]:
    return {
        "perpetrator_ref": OURS,
        "partner_authority_code": STOCKPORT[0],
        "partner_perpetrator_ref": THEIRS,
        **overrides,
    }


def propose(actors: Actors, who: str = "officer", **overrides: Any) -> dict[str, Any]:
    response = actors.post(who, LINKS, link_body(**overrides))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{LINKS}/{response.json()['id']}"
    return dict(response.json())


def confirm(actors: Actors, link_id: str, who: str = "integration") -> dict[str, Any]:
    response = actors.post(who, f"{LINKS}/{link_id}/confirm")
    assert response.status_code == 200, response.text
    return dict(response.json())


def withdraw(actors: Actors, link_id: str, who: str = "officer") -> dict[str, Any]:
    response = actors.delete(who, f"{LINKS}/{link_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def two_cases(actors: Actors) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Manchester and a Stockport household, each under its own perpetrator reference."""
    ours = create_referral(actors, body={**referral_body(), "perpetrator_ref": OURS})
    theirs = create_referral(
        actors, "integration", body={**referral_body("STK-LINK"), "perpetrator_ref": THEIRS}
    )
    return ours, theirs


def allocate_group(actors: Actors) -> dict[str, Any]:
    """A group run: a job, whose result is the allocation."""
    response = actors.post("officer", f"{API}/allocations", {"time_limit_s": 10, "scope": "group"})
    done = run_to_the_end(actors, response)
    assert done["status"] == "succeeded", done["error"]
    return dict(done["result"])


def test_only_a_confirmed_link_keeps_households_apart_in_a_match(
    actors: Actors, protocol_gm: dict[str, Any]
) -> None:
    scheme = add_scheme(actors)["id"]
    held, free = (add_unit(actors, scheme)["id"] for _ in range(2))
    ours, theirs = two_cases(actors)
    make_offer(actors, theirs["id"], held, who="integration")

    def free_unit_matched() -> bool:
        found = matches(actors, ours["id"])
        kept_apart = found["excluded"].get("keep_apart", 0)
        offered = free in [o["unit_id"] for o in found["options"]]
        assert offered == (kept_apart == 0), found["excluded"]
        return offered

    assert free_unit_matched()
    link = propose(actors)
    assert link["status"] == "proposed"
    assert free_unit_matched(), "a link the other authority has not confirmed counts for nothing"

    assert confirm(actors, link["id"])["status"] == "confirmed"
    assert not free_unit_matched()

    withdrawn = withdraw(actors, link["id"], who="integration")
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawn_at"]
    assert free_unit_matched()


def test_only_a_confirmed_link_keeps_households_apart_in_a_group_run(
    actors: Actors, protocol_gm: dict[str, Any]
) -> None:
    """Two units in one scheme, one household of each authority: both are placed unless
    the link is confirmed, and then only one."""
    scheme = add_scheme(actors)["id"]
    for _ in range(2):
        add_unit(actors, scheme)
    two_cases(actors)
    link = propose(actors)
    assert allocate_group(actors)["placed"] == 2

    confirm(actors, link["id"])
    result = allocate_group(actors)
    assert (result["cases"], result["placed"]) == (2, 1)


def test_links_join_through_a_chain(actors: Actors, protocol_gm: dict[str, Any]) -> None:
    """Manchester-Westminster and Westminster-Stockport links make Manchester's and
    Stockport's references one perpetrator: the connected component is one key."""
    scheme = add_scheme(actors)["id"]
    for _ in range(2):
        add_unit(actors, scheme)
    two_cases(actors)
    westminster = actors.new_key(Role.HOUSING_OFFICER, authority_code=WESTMINSTER[0])
    actors.keys["westminster"] = westminster
    first = propose(actors, partner_authority_code=WESTMINSTER[0], partner_perpetrator_ref="W-9")
    confirm(actors, first["id"], who="westminster")
    second = propose(
        actors,
        "westminster",
        perpetrator_ref="W-9",
        partner_authority_code=STOCKPORT[0],
        partner_perpetrator_ref=THEIRS,
    )
    assert allocate_group(actors)["placed"] == 2
    confirm(actors, second["id"])
    assert allocate_group(actors)["placed"] == 1


def test_a_link_shows_the_other_authority_nothing_of_the_case(actors: Actors) -> None:
    ours, _ = two_cases(actors)
    link = propose(actors)
    confirm(actors, link["id"])

    assert "referral_id" not in link and ours["id"] not in str(link)
    assert_problem(actors.get("integration", f"{API}/referrals/{ours['id']}"), 404)
    listed = actors.get("integration", f"{API}/referrals", params={"limit": 500}).json()
    assert ours["id"] not in {r["id"] for r in listed["items"]}
    matched = actors.get("integration", f"{API}/referrals/{ours['id']}/matches")
    assert_problem(matched, 404)


def test_officers_see_only_links_that_touch_their_authority(actors: Actors) -> None:
    link = propose(actors)
    actors.keys["westminster"] = actors.new_key(Role.HOUSING_OFFICER, authority_code=WESTMINSTER[0])
    for who in ("officer", "integration", "admin"):
        listed = actors.get(who, LINKS).json()
        assert [item["id"] for item in listed["items"]] == [link["id"]], who
        assert actors.get(who, f"{LINKS}/{link['id']}").status_code == 200
    assert actors.get("westminster", LINKS).json()["total"] == 0
    assert_problem(actors.get("westminster", f"{LINKS}/{link['id']}"), 404)
    assert_problem(actors.post("westminster", f"{LINKS}/{link['id']}/confirm"), 404)
    assert_problem(actors.delete("westminster", f"{LINKS}/{link['id']}"), 404)
    for who in ("provider_a", "commissioner"):
        assert_problem(actors.get(who, LINKS), 403)
        assert_problem(actors.post(who, LINKS, link_body()), 403)


def test_only_the_other_authority_or_an_admin_confirms(actors: Actors) -> None:
    link = propose(actors)
    assert_problem(actors.post("officer", f"{LINKS}/{link['id']}/confirm"), 403)
    confirm(actors, link["id"])
    assert_problem(actors.post("integration", f"{LINKS}/{link['id']}/confirm"), 409)

    other = propose(actors, perpetrator_ref="MAN-P-0200")
    assert confirm(actors, other["id"], who="admin")["status"] == "confirmed"


def test_a_withdrawn_link_stays_withdrawn(actors: Actors) -> None:
    link = propose(actors)
    first = withdraw(actors, link["id"])
    assert withdraw(actors, link["id"]) == first, "withdrawing again changes nothing"
    assert_problem(actors.post("integration", f"{LINKS}/{link['id']}/confirm"), 409)
    events = audit_events(actors, record_type="perpetrator_link", record_id=link["id"])
    assert [e["action"] for e in events].count("withdraw") == 1


def test_an_admin_records_a_link_confirmed(actors: Actors) -> None:
    link = propose(actors, "admin", authority_code=MANCHESTER[0])
    assert (link["status"], link["authority_code"]) == ("confirmed", MANCHESTER[0])
    assert link["confirmed_at"]


def test_a_pair_is_linked_once_whichever_side_proposes(actors: Actors) -> None:
    propose(actors)
    assert_problem(actors.post("officer", LINKS, link_body()), 409)
    reverse = {
        "perpetrator_ref": THEIRS,
        "partner_authority_code": MANCHESTER[0],
        "partner_perpetrator_ref": OURS,
    }
    assert_problem(actors.post("integration", LINKS, reverse), 409)


def test_a_retried_proposal_gets_the_first_answer(actors: Actors) -> None:
    headers = {"Idempotency-Key": "link-1"}
    first = actors.post("officer", LINKS, link_body(), headers=headers)
    again = actors.post("officer", LINKS, link_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert actors.get("admin", LINKS).json()["total"] == 1

    path = f"{LINKS}/{first.json()['id']}/confirm"
    confirmed = actors.post("integration", path, headers=headers)
    retried = actors.post("integration", path, headers=headers)
    assert (confirmed.status_code, retried.status_code) == (200, 200)
    assert retried.json() == confirmed.json()


def test_every_change_to_a_link_is_audited(actors: Actors) -> None:
    link = propose(actors)
    confirm(actors, link["id"])
    withdraw(actors, link["id"])
    events = audit_events(actors, record_type="perpetrator_link", record_id=link["id"])
    assert [e["action"] for e in reversed(events)] == ["propose", "confirm", "withdraw"]


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("officer", link_body(partner_authority_code="E08000099"), 422, "partner_authority_code"),
        ("officer", link_body(partner_authority_code=MANCHESTER[0]), 422, "partner_authority_code"),
        ("officer", link_body(authority_code=STOCKPORT[0]), 422, "authority_code"),
        ("admin", link_body(), 422, "authority_code"),
        ("officer", link_body(partner_authority_code="W06000015"), 400, "partner_authority_code"),
        ("officer", link_body(perpetrator_ref="has spaces"), 400, "perpetrator_ref"),
        ("officer", link_body(partner_perpetrator_ref=""), 400, "partner_perpetrator_ref"),
        ("officer", link_body(partner_perpetrator_ref=7), 400, "partner_perpetrator_ref"),
        ("officer", {"perpetrator_ref": OURS}, 400, "partner_authority_code"),
        ("officer", link_body(referral_id="x"), 400, "referral_id"),
    ],
    ids=[
        "unknown authority",
        "same authority",
        "not your authority",
        "admin names none",
        "not English",
        "bad reference",
        "empty reference",
        "number",
        "missing",
        "unknown field",
    ],
)
def test_bad_links_are_refused_and_nothing_is_written(
    actors: Actors, who: str, body: dict[str, Any], status: int, field: str
) -> None:
    before = row_counts(actors.settings, "perpetrator_links", "audit_events")
    assert_problem(actors.post(who, LINKS, body), status, field)
    assert row_counts(actors.settings, "perpetrator_links", "audit_events") == before


def test_a_malformed_link_id_is_refused(actors: Actors) -> None:
    assert_problem(actors.post("integration", f"{LINKS}/not-a-uuid/confirm"), 400, "link_id")
    assert_problem(actors.get("officer", f"{LINKS}/12345"), 400, "link_id")
