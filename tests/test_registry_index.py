"""The registry index kept up to date booking by booking answers as one built afresh."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from placement.crypto import load_cipher
from placement.matching.index import RegistryIndex
from tests.conftest import Actors
from tests.placing import add_unit, patch_status
from tests.test_housekeeping import in_session


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
