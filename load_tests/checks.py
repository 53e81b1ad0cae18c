"""After a run: the data must still be right, whatever the load did to it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from placement.config import Settings
from placement.db import create_engine

QUERIES = {
    "units with two live offers": (
        "SELECT count(*) FROM (SELECT unit_id FROM offers WHERE status = 'live' "
        "GROUP BY unit_id HAVING count(*) > 1) AS doubled"
    ),
    "units with two current placements": (
        "SELECT count(*) FROM (SELECT unit_id FROM placements WHERE moved_out_at IS NULL "
        "GROUP BY unit_id HAVING count(*) > 1) AS doubled"
    ),
    "current placements in a unit not marked occupied": (
        "SELECT count(*) FROM placements p JOIN units u ON u.id = p.unit_id "
        "WHERE p.moved_out_at IS NULL AND u.status <> 'occupied'"
    ),
    "live offers on a unit not marked held": (
        "SELECT count(*) FROM offers o JOIN units u ON u.id = o.unit_id "
        "WHERE o.status = 'live' AND u.status <> 'held'"
    ),
}
OCCUPIED = "SELECT count(*) FROM units WHERE status = 'occupied'"
CURRENT_PLACEMENTS = "SELECT count(*) FROM placements WHERE moved_out_at IS NULL"


@dataclass(frozen=True)
class Occupancy:
    occupied_units: int
    current_placements: int


async def occupancy(settings: Settings) -> Occupancy:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return Occupancy(
                occupied_units=int(await conn.scalar(text(OCCUPIED)) or 0),
                current_placements=int(await conn.scalar(text(CURRENT_PLACEMENTS)) or 0),
            )
    finally:
        await engine.dispose()


async def integrity_problems(settings: Settings, before: Occupancy) -> list[str]:
    """Each broken invariant, in words; empty when the data is sound."""
    engine = create_engine(settings)
    problems = []
    try:
        async with engine.connect() as conn:
            for label, query in QUERIES.items():
                count = int(await conn.scalar(text(query)) or 0)
                if count:
                    problems.append(f"{count} {label}")
    finally:
        await engine.dispose()
    after = await occupancy(settings)
    # Load users never set a unit occupied by hand, so occupancy moves only with placements.
    grown = after.occupied_units - before.occupied_units
    placed = after.current_placements - before.current_placements
    if grown != placed:
        problems.append(f"occupied units grew by {grown} but placements by {placed}")
    return problems
