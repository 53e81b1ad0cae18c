"""The reciprocal balances the matcher works from: placements between members, counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from placement.matching.loaders import load_protocols
from tests.conftest import API, MANCHESTER, STOCKPORT, WESTMINSTER, Actors, protocol_body
from tests.placing import add_hatters_court, add_unit, create_referral, place
from tests.test_housekeeping import in_session

ELSEWHERE = WESTMINSTER[0]
"""A member of two protocols, with no placements."""


def _stockport_units(actors: Actors, count: int) -> list[str]:
    scheme = add_hatters_court(actors)
    return [add_unit(actors, scheme["id"])["id"] for _ in range(count)]


def test_balances_count_each_members_placements_into_another(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    """Manchester places two households in Stockport and one at home: under every protocol
    holding both (whatever its period), Manchester is 2 up and Stockport 2 down; one
    without Stockport has no balance; a placement within Manchester counts for none."""
    ids = {}
    for name, members, days in [
        ("both, a year", [MANCHESTER[0], STOCKPORT[0]], 365),
        ("both, a month", [MANCHESTER[0], STOCKPORT[0], ELSEWHERE], 30),
        ("without Stockport", [MANCHESTER[0], ELSEWHERE], 365),
    ]:
        body = protocol_body(name=name, members=members, balance_period_days=days)
        response = actors.post("admin", f"{API}/protocols", body)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    for unit_id in _stockport_units(actors, 2):
        place(actors, create_referral(actors)["id"], unit_id)
    place(actors, create_referral(actors)["id"], add_unit(actors, scheme_a["id"])["id"])

    async def balances(session: AsyncSession) -> dict[str, dict[str, int]]:
        return {p.id: dict(p.balances) for p in await load_protocols(session)}

    assert in_session(actors.settings, balances) == {
        ids["both, a year"]: {MANCHESTER[0]: 2, STOCKPORT[0]: -2},
        ids["both, a month"]: {MANCHESTER[0]: 2, STOCKPORT[0]: -2},
        ids["without Stockport"]: {},
    }
