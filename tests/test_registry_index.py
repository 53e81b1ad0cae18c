"""The registry index kept up to date booking by booking answers as one built afresh."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from placement.crypto import load_cipher
from placement.matching.index import RegistryIndex, Snapshot
from tests.conftest import API, MANCHESTER, STOCKPORT, Actors, protocol_body
from tests.placing import add_unit, create_referral, make_offer, patch_status, place
from tests.test_housekeeping import in_session
from tests.test_protocol_balances import _stockport_units


def test_a_kept_index_follows_each_status_flip_as_a_fresh_one_would(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    """Flips one unit at a time, out and back in, in an order that is neither the units'
    nor their ids': the kept index (patched per change) and a new one (built in full)
    offer exactly the units that are available, in the same order."""
    kept = RegistryIndex(load_cipher(actors.settings))
    units = [add_unit(actors, scheme_a["id"])["id"] for _ in range(5)]
    open_units = set(units)

    async def both(session: AsyncSession) -> tuple[tuple[str, ...], tuple[str, ...]]:
        fresh = RegistryIndex(load_cipher(actors.settings))
        return (await kept.current(session)).table.ids, (await fresh.current(session)).table.ids

    assert set(in_session(actors.settings, both)[0]) == open_units
    for unit_id, status in [
        (units[3], "out_of_service"),
        (units[0], "out_of_service"),
        (units[3], "available"),
        (units[4], "out_of_service"),
        (units[1], "out_of_service"),
        (units[0], "available"),
    ]:
        assert patch_status(actors, unit_id, status).status_code == 200
        if status == "available":
            open_units.add(unit_id)
        else:
            open_units.discard(unit_id)
        kept_ids, fresh_ids = in_session(actors.settings, both)
        assert set(kept_ids) == open_units
        assert kept_ids == fresh_ids


def test_a_kept_index_follows_bookings_and_protocol_changes_as_a_fresh_one_would(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    """A cross-border placement, an offer, a protocol's new cap, a placement at home, one
    at a time: after each the kept index (which for a booking reads again only the unit
    and the balances, not the protocols' terms nor the authorities) holds what a new one
    builds in full: the open units, the protocols with their balances, the names."""
    body = protocol_body(members=[MANCHESTER[0], STOCKPORT[0]], balance_cap=5)
    created = actors.post("admin", f"{API}/protocols", body)
    assert created.status_code == 201, created.text
    protocol_id = created.json()["id"]
    away = _stockport_units(actors, 2)
    home = add_unit(actors, scheme_a["id"])["id"]
    kept = RegistryIndex(load_cipher(actors.settings))

    def view(snapshot: Snapshot) -> tuple[Any, ...]:
        protocols = [(p.id, p.balance_cap, dict(p.balances)) for p in snapshot.protocols.protocols]
        return (
            snapshot.table.ids,
            protocols,
            snapshot.protocols_digest,
            snapshot.authority_names,
            snapshot.rehousing,
        )

    async def both(session: AsyncSession) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        fresh = RegistryIndex(load_cipher(actors.settings))
        return view(await kept.current(session)), view(await fresh.current(session))

    def cap_to_three() -> None:
        response = actors.patch("admin", f"{API}/protocols/{protocol_id}", {"balance_cap": 3})
        assert response.status_code == 200, response.text

    in_session(actors.settings, both)
    seen = []
    for step in [
        lambda: place(actors, create_referral(actors)["id"], away[0]),
        lambda: make_offer(actors, create_referral(actors)["id"], away[1]),
        cap_to_three,
        lambda: place(actors, create_referral(actors)["id"], home),
    ]:
        step()
        kept_view, fresh_view = in_session(actors.settings, both)
        assert kept_view == fresh_view
        seen.append((set(kept_view[0]) & {*away, home}, kept_view[1]))
    one_away = {MANCHESTER[0]: 1, STOCKPORT[0]: -1}
    assert seen == [
        ({away[1], home}, [(protocol_id, 5, one_away)]),
        ({home}, [(protocol_id, 5, one_away)]),
        ({home}, [(protocol_id, 3, one_away)]),
        (set(), [(protocol_id, 3, one_away)]),
    ]
