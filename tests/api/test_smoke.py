from typing import Any

from tests.conftest import Actors


def test_provider_creates_scheme_and_unit(actors: Actors, unit_a: dict[str, Any]) -> None:
    response = actors.get("officer", f"/api/v1/units/{unit_a['id']}")
    assert response.status_code == 200
    assert response.json()["postcode_district"] == "M14"
    assert "address" not in response.text
