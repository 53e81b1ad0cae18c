from tests.conftest import Actors

BODY = {
    "reference": "MAN-2026-00001",
    "risk_level": "high",
    "household": {
        "members": [{"age": 31, "gender": "female"}, {"age": 13, "gender": "male"}],
        "perpetrator_locations": [{"latitude": 53.80, "longitude": -1.55, "radius_km": 10}],
    },
}


def test_referral_roundtrip(actors: Actors) -> None:
    created = actors.post("officer", "/api/v1/referrals", BODY, headers={"Idempotency-Key": "k1"})
    assert created.status_code == 201, created.text
    again = actors.post("officer", "/api/v1/referrals", BODY, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
    assert actors.get("officer", "/api/v1/referrals").json()["total"] == 1
    assert actors.get("integration", f"/api/v1/referrals/{created.json()['id']}").status_code == 404
