"""The allocation panel: a joint run over many open referrals, proposing only.

An authority's own run is answered on the page at once, as the API answers it. A group's
or region's is a long run: as in the API it is queued as a job (`placement.jobs`), and
the officer is sent to the run's own page, which shows its progress until it ends and
then its proposals. The run's page follows it as `api.pages.jobs` shows any run.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.auth import OFFICERS
from api.common import provide
from api.pages.forms import INVALID, FieldError, FormInvalid, errors_of, read_form
from api.pages.jobs import in_words, progress_fragment
from api.pages.officer import words
from api.pages.officer.matching import authority_name, bars
from api.pages.officer.referrals import crumbs
from api.pages.rendering import page
from placement.enums import AllocationScope
from placement.errors import InvalidInput, NotFound
from placement.jobs.allocation import ask_allocation
from placement.jobs.kinds import ALLOCATION
from placement.jobs.service import JobService
from placement.matching.results import Allocation, describe_unit
from placement.matching.service import MatchService
from placement.models import Job

TIME_LIMIT_S = 20.0


class AllocationForm(msgspec.Struct):
    scope: AllocationScope = AllocationScope.AUTHORITY


def panel_crumbs() -> list[tuple[str, str]]:
    return crumbs(("Allocation panel", "/officer/allocation"))


class OfficerAllocationPages(Controller):
    path = "/officer/allocation"
    guards = [OFFICERS]
    include_in_schema = False
    dependencies = {"matcher": provide(MatchService), "jobs": provide(JobService)}

    @get("/")
    async def allocation(self, request: Request[Any, Any, Any]) -> Template:
        return _panel(request, [], str(AllocationScope.AUTHORITY))

    @post("/")
    async def run_allocation(
        self,
        request: Request[Any, Any, Any],
        matcher: NamedDependency[MatchService],
        jobs: NamedDependency[JobService],
        state: State,
    ) -> Template | Redirect:
        """An authority's run at once; a group's or region's queued as a job."""
        scope = ""
        try:
            form = await read_form(request, AllocationForm)
            scope = str(form.scope)
            if form.scope is not AllocationScope.AUTHORITY:
                job = await ask_allocation(jobs, form.scope, TIME_LIMIT_S)
                await jobs.session.commit()  # a redirect is not a 2xx: the plugin would not
                return Redirect(path=f"/officer/allocation/runs/{job.id}", status_code=303)
            # The references first: the run's own audit event is written in this
            # transaction, and the list's read audit has a writer of its own.
            names = await _references(matcher)
            result = await matcher.allocate(None, TIME_LIMIT_S, form.scope)
        except FormInvalid as invalid:
            return _panel(request, invalid.errors, scope)
        except InvalidInput as exc:
            return _panel(request, errors_of(exc), scope)
        return _proposals(request, state, result, names, scope)

    @get("/runs/{job_id:uuid}")
    async def run(
        self,
        request: Request[Any, Any, Any],
        matcher: NamedDependency[MatchService],
        jobs: NamedDependency[JobService],
        state: State,
        job_id: FromPath[uuid.UUID],
    ) -> Template:
        """A queued run's page: its progress while it runs, its proposals once done."""
        job = await _allocation_job(jobs, job_id)
        if job.status != "succeeded" or job.result is None:
            return page(request, "officer/allocation_run.html", crumbs=panel_crumbs(), **_run(job))
        result = msgspec.convert(job.result, Allocation)
        names = await _references(matcher)
        return _proposals(request, state, result, names, str(result.scope))

    @get("/runs/{job_id:uuid}/status")
    async def run_status(
        self,
        jobs: NamedDependency[JobService],
        job_id: FromPath[uuid.UUID],
    ) -> Template | Response[None]:
        """The run's progress alone, for htmx's polling; once the run has ended, a 204
        asking htmx to reload the page, which then shows how it ended."""
        job = await _allocation_job(jobs, job_id)
        return progress_fragment(job, _status_path(job))

    @post("/runs/{job_id:uuid}/cancel")
    async def cancel_run(
        self, jobs: NamedDependency[JobService], job_id: FromPath[uuid.UUID]
    ) -> Redirect:
        await _allocation_job(jobs, job_id)
        await jobs.cancel(job_id)
        await jobs.session.commit()  # as above
        return Redirect(path=f"/officer/allocation/runs/{job_id}", status_code=303)


async def _allocation_job(jobs: JobService, job_id: uuid.UUID) -> Job:
    """The run, if it is an allocation this officer may see (else 404, as the API)."""
    job = await jobs.get(job_id)
    if job.kind != ALLOCATION:
        raise NotFound("allocation run", str(job_id))
    return job


async def _references(matcher: MatchService) -> dict[str, str]:
    """The officer's open referrals' own references, to name the proposals by."""
    found = await matcher.referrals.list(status="open", risk_level=None, limit=500, offset=0)
    return {str(r.id): r.reference for r in found.items}


def _status_path(job: Job) -> str:
    return f"/officer/allocation/runs/{job.id}/status"


def _run(job: Job) -> dict[str, Any]:
    """A run in words, for its page."""
    scope = AllocationScope(job.parameters["scope"])
    return {**in_words(job, _status_path(job)), "scope_text": words.SCOPE[scope]}


def _panel(request: Request[Any, Any, Any], errors: list[FieldError], scope: str) -> Template:
    return page(
        request,
        "officer/allocation.html",
        status_code=INVALID if errors else 200,
        crumbs=crumbs(),
        errors=errors,
        result=None,
        words=words,
        scope=scope,
    )


def _proposals(
    request: Request[Any, Any, Any],
    state: State,
    result: Allocation,
    names: dict[str, str],
    scope: str,
) -> Template:
    proposals = [
        {
            "proposal": p,
            "reference": names.get(p.referral_id, ""),
            "bars": bars(p.parts, state),
            "unit": describe_unit(p.area) if p.area else None,
        }
        for p in result.proposals
    ]
    return page(
        request,
        "officer/allocation.html",
        crumbs=crumbs(),
        result=result,
        proposals=proposals,
        partners={p.authority_code: authority_name(p.authority_code) for p in result.partners},
        words=words,
        scope=scope,
    )
