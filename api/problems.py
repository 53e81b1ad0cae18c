"""Every error as an RFC 9457 problem document that names the field and the rule.

Shape: {"type", "title", "status", "detail", "errors": [{"field", "message", "source"}]}.
Shape errors of the wire format (wrong type, missing field, unknown enum value) are 400;
well-formed input that breaks a domain rule is 422; scope and role 403/404; stale
versions and races 409; oversized bodies 413.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from placement.errors import DomainError
from placement.faults import RAISED_BY_OUTAGES, unavailable

log = logging.getLogger(__name__)
TYPE_BASE = "https://placement.example/problems/"
RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait: the service recovers within a second of its database."""
# msgspec reports a missing or unknown field against the object that holds it ("data" for
# the body itself); the field meant is the one named in the message.
_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")


def _problem(
    status: int, title: str, detail: str, slug: str, **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        title=title,
        detail=detail,
        type_=TYPE_BASE + slug,
        extra=extra or None,
    )


def from_domain(exc: DomainError) -> ProblemDetailsException:
    slug = type(exc).__name__.lower()
    return _problem(exc.status, exc.title, exc.detail, slug, **exc.extra)


def _field_of(item: dict[str, Any]) -> str:
    """The field an error is about, as a dotted path from the body or the parameter name."""
    key = str(item.get("key") or "")
    named = _NAMED_FIELD.search(str(item.get("message", "")))
    if named:
        parent = "" if key in ("", "data") else key.removeprefix("data.")
        return f"{parent}.{named.group(1)}" if parent else named.group(1)
    return "body" if key in ("", "data") else key


def _message_of(item: dict[str, Any]) -> str:
    message = str(item.get("message", ""))
    if item.get("key") == "data" and message == "'data'":  # no body at all
        return "a JSON object is required"
    return message


def from_validation(exc: ValidationException) -> ProblemDetailsException:
    errors = [
        {
            "field": _field_of(item),
            "message": _message_of(item),
            "source": item.get("source", "body"),
        }
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail)
    return _problem(400, "Invalid request", detail, "validation", errors=errors)


def from_http(exc: HTTPException) -> ProblemDetailsException:
    title = HTTPStatus(exc.status_code).phrase
    problem = _problem(exc.status_code, title, str(exc.detail), f"http-{exc.status_code}")
    problem.headers = exc.headers
    return problem


def from_integrity(exc: IntegrityError) -> ProblemDetailsException:
    """A constraint the database enforces was hit (usually a race); nothing was written."""
    log.info("integrity error: %s", exc.orig)
    return _problem(
        409,
        "Conflict",
        "the change conflicts with the current state of the "
        "record (another change won); fetch it again and retry",
        "conflict",
    )


def from_database(exc: DBAPIError) -> ProblemDetailsException:
    """A database error that is not a constraint: a value it cannot store is the client's.

    SQLSTATE class 22 ("data exception") is a value PostgreSQL refuses, such as a NUL
    character in a string or a number out of range; anything else is our fault.
    """
    if unavailable(exc):
        return from_unavailable(exc)
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if sqlstate.startswith("22"):
        log.info("data exception %s: %s", sqlstate, exc.orig)
        rule = "holds a value the database cannot store (such as a NUL character)"
        return _problem(
            400,
            "Invalid request",
            f"request: {rule}",
            "validation",
            errors=[{"field": "request", "message": rule, "source": "body"}],
        )
    log.error("database error", exc_info=exc)
    return _problem(
        500, "Internal error", "something went wrong on our side; it has been logged", "internal"
    )


def from_unavailable(exc: Exception) -> ProblemDetailsException:
    """The database did not answer (stopped, frozen, restarting, locked): 503, try later.

    Logged as one line, not a traceback: in an outage every request fails the same way.
    An exception of these types that is not an outage is a fault of ours, and says so.
    """
    if not unavailable(exc):
        log.error("unexpected error", exc_info=exc)
        detail = "something went wrong on our side; it has been logged"
        return _problem(500, "Internal error", detail, "internal")
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    problem = _problem(
        503,
        "Service unavailable",
        f"the database is not answering at the moment; try again in {RETRY_AFTER_SECONDS} seconds",
        "unavailable",
    )
    problem.headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return problem


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Last resort: log the cause, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _problem(
        500, "Internal error", "something went wrong on our side; it has been logged", "internal"
    ).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={
                DomainError: from_domain,
                ValidationException: from_validation,
                HTTPException: from_http,
                IntegrityError: from_integrity,
                DBAPIError: from_database,
                **dict.fromkeys(RAISED_BY_OUTAGES, from_unavailable),
            },
        )
    )
