"""Errors on the pages, as pages: the same statuses and words as the API's problems.

A request without a signed-in session goes to the sign-in page (and back afterwards);
everything else is the problem the API would answer (`api.problems.problem_for`: a
domain rule, a refused role, a CSRF-less post, an outage), shown as an HTML page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from api.pages.auth import SESSION_COOKIE
from api.pages.forms import INVALID, FormInvalid
from api.pages.rendering import page
from api.problems import CONVERSIONS, from_http, problem_for

TITLES = {
    400: "There is a problem with the request",
    403: "You cannot do this",
    404: "Page not found",
    405: "You cannot do this here",
    409: "Someone else changed this first",
    413: "What you sent is too large",
    422: "There is a problem",
    429: "Too many requests",
    503: "Sorry, the service is unavailable",
}


def to_sign_in(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    """To the sign-in page, then back to the page asked for (a GET's path only).

    An htmx request is told with `HX-Redirect`, so the whole page goes, not a fragment.
    """
    back = request.url.path if request.method == "GET" else "/"
    if request.url.query and request.method == "GET":
        back += "?" + request.url.query
    target = "/sign-in" if back == "/" else f"/sign-in?next={quote(back, safe='')}"
    if request.cookies.get(SESSION_COOKIE, "null") != "null":  # it had a session, now over
        target += ("&" if "?" in target else "?") + "ended=true"
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=204, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def as_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, FormInvalid):
        return form_refused(request, exc)
    problem = problem_for(exc)
    status = problem.status_code
    title = TITLES.get(status, "Sorry, there is a problem with the service")
    shown = page(request, "error.html", status_code=status, title=title, detail=problem.detail)
    shown.headers.update(problem.headers or {})
    return shown


def form_refused(request: Request[Any, Any, Any], exc: FormInvalid) -> Response[Any]:
    """A posted button's form that a page does not show again (an offer's unit, say):
    its rule in words, as a 422 page, and nothing written."""
    detail = " ".join(error.message.rstrip(".") + "." for error in exc.errors)
    return page(request, "error.html", status_code=INVALID, title=TITLES[INVALID], detail=detail)


def not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    """For the app as a whole: a path no route serves is a page to a person, and the
    API's problem document under the API's and docs' paths."""
    if request.url.path.startswith(MACHINE_PATHS):
        return from_http(exc).to_response(request)
    return as_page(request, exc)


MACHINE_PATHS = ("/api/", "/schema", "/docs/", "/health")

EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    # Litestar picks a handler by the exception's class before the layer it is set on, so
    # every class the app's problem handlers name is named here too.
    **dict.fromkeys(
        [Exception, HTTPException, ProblemDetailsException, FormInvalid, *CONVERSIONS], as_page
    ),
    NotAuthorizedException: to_sign_in,
}
