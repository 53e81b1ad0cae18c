"""The simulation's world for a job, built from the live registry of the asker's area.

The world is the area's live units (whatever their status today: in a simulated year each
comes free in its turn), the protocols in force, the rehousing options, and as the mix of
households that arrive, the area's referrals (decrypted here, for the simulation only:
what leaves is counts and times). A job's area and start date are fixed when it is asked
for (`area_parameters`), so the same job gives the same figures whenever it runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement.crypto import Cipher
from placement.households import unseal
from placement.jobs.runners import JobFailed
from placement.matching import convert
from placement.matching.index import RegistryIndex
from placement.models import Referral
from placement.reports.area import Area
from simulation.world import World, make_world


def area_parameters(area: Area) -> dict[str, Any]:
    """The area and start date a simulating job keeps in its parameters."""
    return {
        "area": {"kind": area.kind, "code": area.code, "authorities": sorted(area.authorities)},
        "start": date.today().isoformat(),
    }


async def world_of(
    session: AsyncSession,
    cipher: Cipher,
    index: RegistryIndex,
    parameters: dict[str, Any],
    weights: optimiser.Weights,
) -> World:
    """The world a simulating job's parameters name."""
    return await build_world(
        session,
        cipher,
        index,
        frozenset(parameters["area"]["authorities"]),
        date.fromisoformat(parameters["start"]),
        weights,
    )


async def build_world(
    session: AsyncSession,
    cipher: Cipher,
    index: RegistryIndex,
    authorities: frozenset[str],
    start: date,
    weights: optimiser.Weights,
) -> World:
    """The area's registry and household mix as a simulation's world."""
    snapshot = await index.current(session)
    units = tuple(u for _, u in sorted(index.units.items()) if u.authority_code in authorities)
    referrals = await session.scalars(
        select(Referral).where(Referral.authority_code.in_(authorities)).order_by(Referral.id)
    )
    mix = tuple(
        convert.household(r, unseal(cipher, r.details_ciphertext), start) for r in referrals
    )
    if not units:
        raise JobFailed("the area has no units to simulate")
    if not mix:
        raise JobFailed("the area has no referrals to draw the household mix from")
    return make_world(units, snapshot.protocols.protocols, snapshot.rehousing, mix, start, weights)
