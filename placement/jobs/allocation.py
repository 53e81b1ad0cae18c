"""A group's or region's allocation run as a job: the same `MatchService.allocate` an
authority's run answers at once, acting for the officer who asked, so the row filter on
the result (own cases as proposals, partners' as counts) is theirs."""

from __future__ import annotations

from typing import Any

import msgspec

from placement.enums import AllocationScope
from placement.jobs.runners import RunContext
from placement.matching.service import MatchService


async def run_allocation(context: RunContext) -> dict[str, Any]:
    deps, p = context.deps, context.parameters
    context.tracker.report(0.0, f"allocating the open referrals of your {p['scope']}")
    async with deps.sessions() as session, session.begin():
        matcher = MatchService(session, context.requester, deps.runtime)
        result = await matcher.allocate(None, p["time_limit_s"], AllocationScope(p["scope"]))
    document: dict[str, Any] = msgspec.to_builtins(result)
    return document
