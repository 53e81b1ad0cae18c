from typing import Any

from tests.conftest import Actors
from tests.api.test_referrals_smoke import BODY


def test_offer_accept_reveal_move_out(actors: Actors, unit_a: dict[str, Any]) -> None:
    referral = actors.post("officer", "/api/v1/referrals", BODY).json()
    offer = actors.post(
        "officer", "/api/v1/offers", {"referral_id": referral["id"], "unit_id": unit_a["id"]}
    )
    assert offer.status_code == 201, offer.text
    again = actors.post(
        "officer", "/api/v1/offers", {"referral_id": referral["id"], "unit_id": unit_a["id"]}
    )
    assert again.status_code == 409, again.text
    detail = actors.get("provider_a", f"/api/v1/offers/{offer.json()['id']}")
    assert detail.json()["household_needs"]["members"][1]["age"] == 13
    assert "latitude" not in detail.text
    accepted = actors.post("provider_a", f"/api/v1/offers/{offer.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    placement_id = accepted.json()["placement"]["id"]
    assert actors.get("officer", f"/api/v1/units/{unit_a['id']}").json()["status"] == "occupied"
    first = actors.post("officer", f"/api/v1/placements/{placement_id}/address")
    assert first.status_code == 200 and "Example Road" in first.json()["address"]
    assert actors.post("officer", f"/api/v1/placements/{placement_id}/address").status_code == 409
    out = actors.post(
        "provider_a",
        f"/api/v1/placements/{placement_id}/move-out",
        {"outcome": "settled_accommodation"},
    )
    assert out.status_code == 200, out.text
    assert actors.get("officer", f"/api/v1/units/{unit_a['id']}").json()["status"] == "available"


def test_offer_inside_a_perpetrator_zone_is_refused(actors: Actors, unit_a: dict[str, Any]) -> None:
    near = BODY | {
        "reference": "MAN-2026-00002",
        "household": BODY["household"]
        | {"perpetrator_locations": [{"latitude": 53.45, "longitude": -2.22, "radius_km": 5}]},
    }
    referral = actors.post("officer", "/api/v1/referrals", near).json()
    offer = actors.post(
        "officer", "/api/v1/offers", {"referral_id": referral["id"], "unit_id": unit_a["id"]}
    )
    assert offer.status_code == 422
    assert offer.json()["errors"][0]["field"] == "unit_id"
    assert "perpetrator" in offer.json()["detail"]
    assert actors.get("officer", f"/api/v1/units/{unit_a['id']}").json()["status"] == "available"
