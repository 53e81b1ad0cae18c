"""Periodic upkeep each worker runs in the background; safe to run on many at once.

Each worker sweeps at start, then when the next offer hold expires (or every 30 s at
most), so an expired hold frees its unit on time.

Every step is a conditional update or an idempotent delete, so two workers sweeping at
the same moment do no harm. A sweep that fails (the database is down) is tried again
soon, then less and less often, and never stops the loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.faults import unavailable
from placement.holds import next_expiry, release_expired
from placement.models import PageSession, RegistryChange

log = logging.getLogger(__name__)
SWEEP_SECONDS = 30.0
EXPIRY_SLACK_SECONDS = 0.05
CHANGES_KEPT = 100_000
FIRST_RETRY_SECONDS = 1.0


async def prune_change_feed(session: AsyncSession) -> None:
    """Keep the recent end of the change feed; a worker further behind reloads in full."""
    latest = await session.scalar(select(func.max(RegistryChange.seq)))
    if latest is not None and latest > CHANGES_KEPT:
        await session.execute(
            delete(RegistryChange).where(RegistryChange.seq <= latest - CHANGES_KEPT)
        )


async def prune_page_sessions(session: AsyncSession) -> None:
    """Forget signed-in sessions past their expiry (they no longer work anyway)."""
    await session.execute(delete(PageSession).where(PageSession.expires_at < datetime.now(UTC)))


async def sweep(sessions: async_sessionmaker[Any]) -> datetime | None:
    """Release expired holds, prune the feed and expired page sessions; returns when the
    next hold expires."""
    async with sessions() as session, session.begin():
        expired = await release_expired(session)
        await prune_change_feed(session)
        await prune_page_sessions(session)
        expiry = await next_expiry(session)
    if expired:
        log.info("released %d expired offer holds", expired)
    return expiry


def seconds_until_next_sweep(
    next_expiry: datetime | None, every: float, now: datetime | None = None
) -> float:
    """Sweep again at the next expiry, so a hold frees its unit on time (and matches show it
    at once), but at least every `every` seconds: another worker may add earlier holds."""
    if next_expiry is None:
        return every
    if next_expiry.tzinfo is None:  # SQLite hands back naive UTC
        next_expiry = next_expiry.replace(tzinfo=UTC)
    due = (next_expiry - (now or datetime.now(UTC))).total_seconds() + EXPIRY_SLACK_SECONDS
    return min(every, max(due, EXPIRY_SLACK_SECONDS))


def seconds_after_failures(failures: int, every: float) -> float:
    """Back off after failed sweeps in a row: 1 s, 2 s, 4 s, ... and then every `every`.

    A blip delays an expiring hold by a second or two; a long outage costs one log line
    per `every` seconds rather than a flood.
    """
    return min(every, FIRST_RETRY_SECONDS * 2.0 ** min(failures - 1, 16))


async def run_forever(sessions: async_sessionmaker[Any], every: float | None = None) -> None:
    """Sweep until cancelled; `every` defaults to SWEEP_SECONDS as it is when this starts."""
    every = every or SWEEP_SECONDS
    failures = 0
    while True:
        try:
            wait = seconds_until_next_sweep(await sweep(sessions), every)
            failures = 0
        except Exception as error:  # keep sweeping: a failed sweep must not stop expiry
            failures += 1
            wait = seconds_after_failures(failures, every)
            if unavailable(error):  # expected in an outage: one line, not a traceback
                log.warning("housekeeping: database unavailable (%s); retry in %.0f s", error, wait)
            else:
                log.exception("housekeeping sweep failed")
        await asyncio.sleep(wait)
