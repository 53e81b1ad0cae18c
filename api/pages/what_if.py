"""The commissioner's what-if: what adding or removing units, or an authority joining or
leaving a protocol, would do to their area's year, asked on a form and answered as a job
(`POST /api/v1/what-if`'s, the same rules).

The answer compares simulated years of the area with and without the change over the
same arrivals (`simulation.whatif`): households placed, unmet need by reason and time to
placement, each a difference with its 95% interval over the years run, as a table and a
chart. Only counts and times leave the simulation.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup
from sqlalchemy import select

from api.auth import allow
from api.common import provide
from api.pages.forms import INVALID, FieldError, FormInvalid, errors_of, read_form
from api.pages.jobs import in_words, progress_fragment
from api.pages.officer.words import ACCESS
from api.pages.rendering import page
from api.what_if import ProtocolChange, UnitChange, WhatIfRequest
from placement.enums import AccessFeature, Role, SchemeType
from placement.errors import InvalidInput, NotFound
from placement.jobs.kinds import WHAT_IF
from placement.jobs.service import JobService
from placement.jobs.whatif import ask_what_if
from placement.matching.loaders import protocols_in_force
from placement.models import Authority, Job, Protocol
from placement.reports.area import Area, choose
from placement.reports.categories import WORDS
from placement.reports.charts import difference_chart

PATH = "/commissioner/what-if"
COMMISSIONERS = allow(Role.COMMISSIONER, Role.ADMIN)
DAYS = {"365": "A year", "182": "Six months", "91": "Three months"}
SEEDS = {"3": "3 years", "1": "1 year (quickest)", "5": "5 years"}
HOUSEHOLDS = {
    "placed": "Households placed",
    "unmet_no_suitable_unit": "Unable to be supported: no unit could meet their needs",
    "unmet_withdrew_waiting": "Withdrew while waiting",
    "unmet_waiting_at_end": "Still waiting at the end",
}
DAYS_TO_PLACEMENT = {
    "median_days_to_placement": "Median days from referral to placement",
    "p90_days_to_placement": "90th percentile days from referral to placement",
}
MEASURES = {
    **HOUSEHOLDS,
    "weighted_placed": "Placements weighted by priority",
    **DAYS_TO_PLACEMENT,
}


class Span(msgspec.Struct):
    """How long a simulated year runs and how many are compared."""

    days: int = 365
    seeds: int = 3


class WhatIfPages(Controller):
    path = PATH
    guards = [COMMISSIONERS]
    include_in_schema = False
    dependencies = {"jobs": provide(JobService)}

    @get("/")
    async def form(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService]
    ) -> Template:
        return await _form(request, jobs, [], {})

    @post("/")
    async def ask(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService]
    ) -> Template | Redirect:
        """Queue the what-if over the person's own area, then follow it on its page."""
        return await _queue(request, jobs, UNITS)

    @get("/protocol")
    async def protocol_form(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService]
    ) -> Template:
        return await _protocol_form(request, jobs, [], {})

    @post("/protocol")
    async def ask_protocol(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService]
    ) -> Template | Redirect:
        """Queue the what-if of an authority joining or leaving a protocol."""
        return await _queue(request, jobs, PROTOCOL)

    @get("/{job_id:uuid}")
    async def answer(
        self,
        request: Request[Any, Any, Any],
        jobs: NamedDependency[JobService],
        job_id: FromPath[uuid.UUID],
    ) -> Template:
        """The what-if's progress while it runs; its figures and charts once done."""
        job = await _what_if_job(jobs, job_id)
        asked = job.parameters.get("protocol") or job.parameters["change"]
        names = await _names(jobs, {asked["authority_code"]})
        figures = job.result if job.status == "succeeded" and job.result else None
        return page(
            request,
            "commissioner/what_if_answer.html",
            crumbs=[("Reports", "/commissioner"), ("What if", PATH)],
            question=_question(job.parameters, names),
            rows=_rows(figures) if figures else [],
            charts=_charts(figures) if figures else [],
            figures=figures,
            **in_words(job, f"{PATH}/{job.id}/status"),
        )

    @get("/{job_id:uuid}/status")
    async def status(
        self, jobs: NamedDependency[JobService], job_id: FromPath[uuid.UUID]
    ) -> Template | Response[None]:
        job = await _what_if_job(jobs, job_id)
        return progress_fragment(job, f"{PATH}/{job.id}/status")


async def _form(
    request: Request[Any, Any, Any],
    jobs: JobService,
    errors: list[FieldError],
    posted: dict[str, Any],
) -> Template:
    """The question's form: the units' authority is one of the person's own area."""
    area = await choose(jobs.session, jobs.principal, None, None)
    names = await _names(jobs, area.authorities)
    return page(
        request,
        "commissioner/what_if.html",
        status_code=INVALID if errors else 200,
        crumbs=[("Reports", "/commissioner")],
        errors=errors,
        posted=posted,
        area=area,
        authorities=[("", "Choose an authority"), *sorted(names.items(), key=lambda p: p[1])],
        scheme_types=[(str(t), WORDS[str(t)]) for t in SchemeType],
        features=[(str(f), ACCESS[f]) for f in AccessFeature],
        days=list(DAYS.items()),
        seeds=list(SEEDS.items()),
    )


UNIT_REQUIRED = {
    "count": "Enter how many units",
    "authority_code": "Choose the authority the units are in",
}
UNIT_RULES = {
    "count": "Enter a whole number of units from 1 to 200",
    "bedrooms": "Enter a whole number of bedrooms from 1 to 8",
    "bed_spaces": "Enter a whole number of bed spaces from 1 to 16",
    "days": "Choose how long to simulate",
    "seeds": "Choose how many years to compare",
}
PROTOCOL_REQUIRED = {
    "protocol_id": "Choose the protocol",
    "authority_code": "Choose the authority that joins or leaves it",
}
PROTOCOL_RULES = {
    "action": "Choose whether the authority joins or leaves the protocol",
    "protocol_id": "Choose a protocol in force with a member in your area",
    "authority_code": "Choose an authority of your area",
    "days": "Choose how long to simulate",
    "seeds": "Choose how many years to compare",
}
PROTOCOL_WORDS = {
    "is a member already: it cannot join": "That authority is already a member: it cannot join",
    "is not a member: it cannot leave": "That authority is not a member: it cannot leave",
}


def _unit_words(error: FieldError) -> FieldError:
    """An error on the units form in the form's words (a number's range, say), not the
    decoder's or the API's."""
    if error.message in UNIT_REQUIRED.values():
        return error
    field = error.field.removeprefix("change.")
    return FieldError(field, UNIT_RULES.get(field, error.message))


def _protocol_words(error: FieldError) -> FieldError:
    """An error on the protocol form in the form's words, not the decoder's or the API's."""
    if error.message in PROTOCOL_REQUIRED.values():
        return error
    field = error.field.removeprefix("protocol.")
    words = PROTOCOL_WORDS.get(error.message) or PROTOCOL_RULES.get(field, error.message)
    return FieldError(field, words)


async def _protocol_form(
    request: Request[Any, Any, Any],
    jobs: JobService,
    errors: list[FieldError],
    posted: dict[str, Any],
) -> Template:
    """The protocol question's form: a protocol in force with a member in the person's
    area, and one of the area's authorities."""
    area = await choose(jobs.session, jobs.principal, None, None)
    names = await _names(jobs, area.authorities)
    return page(
        request,
        "commissioner/what_if_protocol.html",
        status_code=INVALID if errors else 200,
        crumbs=[("Reports", "/commissioner"), ("What if", PATH)],
        errors=errors,
        posted=posted,
        area=area,
        protocols=[("", "Choose a protocol"), *await _protocols_of(jobs, area)],
        authorities=[("", "Choose an authority"), *sorted(names.items(), key=lambda p: p[1])],
        days=list(DAYS.items()),
        seeds=list(SEEDS.items()),
    )


@dataclass(frozen=True, slots=True)
class Question:
    """One of the what-if forms: what it posts and how its errors are put."""

    key: str
    """The change's member of the API's request: ``change`` or ``protocol``."""
    change: type[msgspec.Struct]
    required: dict[str, str]
    words: Callable[[FieldError], FieldError]
    form: Callable[
        [Request[Any, Any, Any], JobService, list[FieldError], dict[str, Any]], Awaitable[Template]
    ]


UNITS = Question("change", UnitChange, UNIT_REQUIRED, _unit_words, _form)
PROTOCOL = Question("protocol", ProtocolChange, PROTOCOL_REQUIRED, _protocol_words, _protocol_form)


async def _queue(
    request: Request[Any, Any, Any], jobs: JobService, question: Question
) -> Template | Redirect:
    """Queue the posted question as the API would, then follow it on its page; or the
    form again, its errors in the form's words and what was posted kept."""
    form = await request.form()
    posted: dict[str, Any] = {**dict(form), "features": form.getall("features", [])}
    try:
        change = await read_form(request, question.change, question.required)
        span = await read_form(request, Span)
        asked = msgspec.convert(
            {question.key: msgspec.to_builtins(change), **msgspec.to_builtins(span)},
            WhatIfRequest,
        )
        job = await ask_what_if(jobs, msgspec.to_builtins(asked))
    except FormInvalid as invalid:
        errors = invalid.errors
    except msgspec.ValidationError as exc:
        errors = errors_of(exc, WhatIfRequest)
    except InvalidInput as exc:
        errors = errors_of(exc)
    except NotFound:  # another area's protocol, as a tampered form would send it
        errors = [FieldError("protocol_id", PROTOCOL_RULES["protocol_id"])]
    else:
        await jobs.session.commit()  # a redirect is not a 2xx: the plugin would not commit
        return Redirect(path=f"{PATH}/{job.id}", status_code=303)
    return await question.form(request, jobs, [question.words(e) for e in errors], posted)


async def _protocols_of(jobs: JobService, area: Area) -> list[tuple[str, str]]:
    """Protocols in force today with a member in the area, by name, with their members."""
    in_force = {
        t.id: t
        for t in await protocols_in_force(jobs.session, date.today())
        if t.members & area.authorities
    }
    if not in_force:
        return []
    rows = await jobs.session.execute(
        select(Protocol.id, Protocol.name).where(Protocol.id.in_([uuid.UUID(i) for i in in_force]))
    )
    named = sorted((name, str(i)) for i, name in rows.tuples())
    members = await _names(jobs, set().union(*(t.members for t in in_force.values())))
    return [
        (i, f"{name} ({', '.join(sorted(members.get(c, c) for c in in_force[i].members))})")
        for name, i in named
    ]


async def _what_if_job(jobs: JobService, job_id: uuid.UUID) -> Job:
    """The what-if, if it is one this person may see (else 404, as the API)."""
    job = await jobs.get(job_id)
    if job.kind != WHAT_IF:
        raise NotFound("what-if", str(job_id))
    return job


async def _names(jobs: JobService, codes: set[str] | frozenset[str]) -> dict[str, str]:
    rows = await jobs.session.execute(
        select(Authority.code, Authority.name).where(Authority.code.in_(codes))
    )
    return {code: name for code, name in rows.tuples()}


def _question(parameters: dict[str, Any], names: dict[str, str]) -> str:
    """What was asked, in a sentence: "Add 5 refuge units with step-free access in Bury",
    or "Bury leaves the protocol"."""
    protocol = parameters.get("protocol")
    if protocol is not None:
        who = names.get(protocol["authority_code"], protocol["authority_code"])
        return f"{who} {protocol['action']}s the protocol"
    change = parameters["change"]
    count = change["count"]
    kind = WORDS[change["scheme_type"]].lower()
    features = [ACCESS[AccessFeature(f)].lower() for f in change["features"]]
    where = names.get(change["authority_code"], change["authority_code"])
    with_ = f" ({', '.join(features)})" if features else ""
    verb = "Add" if change["action"] == "add" else "Remove"
    plural = "unit" if count == 1 else "units"
    return f"{verb} {count} {kind} {plural}{with_} in {where}"


def _rows(figures: dict[str, Any]) -> list[list[str]]:
    """One table row per measure: without, with, the difference and its interval."""
    rows = []
    for key, words in MEASURES.items():
        figure = figures[key]
        low, high = figure["interval_95"]
        rows.append(
            [
                words,
                f"{figure['baseline']:,.1f}",
                f"{figure['changed']:,.1f}",
                f"{figure['difference']:+,.1f}",
                f"{low:+,.1f} to {high:+,.1f}",
            ]
        )
    return rows


def _charts(figures: dict[str, Any]) -> list[Markup]:
    """The differences with their intervals: households, then days to placement."""
    charts = []
    for title, measures, unit in (
        ("Change in households", HOUSEHOLDS, "households (with the change minus without)"),
        ("Change in time to placement", DAYS_TO_PLACEMENT, "days (with the change minus without)"),
    ):
        picked = [figures[key] for key in measures]
        charts.append(
            difference_chart(
                title,
                list(measures.values()),
                [f["difference"] for f in picked],
                [tuple(f["interval_95"]) for f in picked],
                unit,
            )
        )
    return charts
