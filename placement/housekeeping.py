"""Periodic upkeep each worker runs in the background; safe to run on many at once.

Every step is a conditional update or an idempotent delete, so two workers sweeping at
the same moment do no harm.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.models import RegistryChange
from placement.offers import release_expired

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0
CHANGES_KEPT = 100_000


async def prune_change_feed(session: AsyncSession) -> None:
    """Keep the recent end of the change feed; a worker further behind reloads in full."""
    latest = await session.scalar(select(func.max(RegistryChange.seq)))
    if latest is not None and latest > CHANGES_KEPT:
        await session.execute(
            delete(RegistryChange).where(RegistryChange.seq <= latest - CHANGES_KEPT)
        )


async def sweep(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as session, session.begin():
        expired = await release_expired(session)
        await prune_change_feed(session)
    if expired:
        log.info("released %d expired offer holds", expired)


async def run_forever(sessions: async_sessionmaker[Any], every: float = SWEEP_SECONDS) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await sweep(sessions)
        except Exception:  # keep sweeping: one failed sweep must not stop expiry for good
            log.exception("housekeeping sweep failed")
