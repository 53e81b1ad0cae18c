"""A group's or region's allocation run as a job: the same `MatchService.allocate` an
authority's run answers at once, acting for the officer who asked, so the row filter on
the result (own cases as proposals, partners' as counts) is theirs."""

from __future__ import annotations

from typing import Any

import msgspec

from placement.enums import AllocationScope
from placement.errors import InvalidInput
from placement.jobs.kinds import ALLOCATION
from placement.jobs.runners import RunContext
from placement.jobs.service import JobService
from placement.matching.service import MatchService
from placement.models import Authority, Job


async def ask_allocation(jobs: JobService, scope: AllocationScope, time_limit_s: float) -> Job:
    """Queue a group's or region's run for the asking officer; an authority in no group,
    or an area with more open referrals than a run takes, is told at once, not by a
    failed job."""
    jobs.principal_must_be_officer()
    mine = await jobs.session.get(Authority, jobs.principal.authority_code)
    if scope is AllocationScope.GROUP and (mine is None or mine.group_name is None):
        name = mine.name if mine is not None else jobs.principal.authority_code
        raise InvalidInput("scope", f"{name} is not in a group of authorities")
    matcher = MatchService(jobs.session, jobs.principal, jobs.runtime)
    await matcher.cases_of_run(None, scope)
    return await jobs.create(ALLOCATION, {"scope": str(scope), "time_limit_s": time_limit_s})


async def run_allocation(context: RunContext) -> dict[str, Any]:
    deps, p = context.deps, context.parameters
    context.tracker.report(0.0, f"allocating the open referrals of your {p['scope']}")
    async with deps.sessions() as session, session.begin():
        matcher = MatchService(session, context.requester, deps.runtime)
        result = await matcher.allocate(None, p["time_limit_s"], AllocationScope(p["scope"]))
    document: dict[str, Any] = msgspec.to_builtins(result)
    return document
