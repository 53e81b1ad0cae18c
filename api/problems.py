"""Every error as an RFC 9457 problem document that names the field and the rule.

Shape (`Problem`): {"type", "title", "status", "detail", "instance", "errors": [{"field",
"message", "source"}]}, the same for every error, so a client reads one shape. Shape
errors of the wire format (wrong type, missing field, unknown enum value) are 400;
well-formed input that breaks a domain rule is 422; scope and role 403/404; stale
versions and races 409; oversized bodies 413.
"""

from __future__ import annotations

import enum
import logging
import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from msgspec import Meta
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.problem_types import PROBLEM_TYPES, type_uri
from placement.errors import (
    AuditUnavailable,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from placement.faults import RAISED_BY_OUTAGES, unavailable

log = logging.getLogger(__name__)
INTERNAL = "something went wrong on our side; it has been logged"
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait: the service recovers within a second of its database."""


class Source(enum.StrEnum):
    """Where in the request the value was."""

    BODY = "body"
    QUERY = "query"
    PATH = "path"
    HEADER = "header"


class FieldError(msgspec.Struct):
    """One thing wrong with the request: which value, and the rule it broke."""

    field: Annotated[
        str,
        Meta(
            description="the field, as a dotted path into the body (`household.members[0].age`), "
            "or the name of the query parameter, path parameter or header; `body` for the "
            "body as a whole",
            examples=["bed_spaces"],
        ),
    ]
    message: Annotated[
        str,
        Meta(description="the rule it broke", examples=["Expected `int`, got `str`"]),
    ]
    source: Annotated[Source, Meta(description="where in the request the value was")]


class Problem(msgspec.Struct):
    """An RFC 9457 problem document: every error the service returns has this shape."""

    type: Annotated[
        str,
        Meta(
            description="what kind of problem: a link to its explanation on this service",
            examples=["/docs/problems#validation"],
        ),
    ]
    title: Annotated[str, Meta(description="the kind, in words", examples=["Invalid request"])]
    status: Annotated[int, Meta(description="the HTTP status", examples=[400])]
    detail: Annotated[
        str,
        Meta(
            description="what went wrong with this request",
            examples=["bed_spaces: Expected `int`, got `str`"],
        ),
    ]
    instance: Annotated[
        str, Meta(description="the path of the request", examples=["/api/v1/units"])
    ]
    errors: Annotated[
        list[FieldError],
        Meta(description="each value at fault (empty when the problem is not about input)"),
    ]


class ProblemException(ProblemDetailsException):
    """A problem, rendered as a `Problem` about the request it answers."""

    def __init__(self, status: int, kind: str, detail: str, **extra: Any) -> None:
        title = PROBLEM_TYPES[kind][0]
        super().__init__(
            status_code=status, title=title, detail=detail, type_=type_uri(kind), extra=extra
        )

    def to_response(self, request: Request[Any, Any, Any]) -> Response[Any]:
        extra = dict(self.extra) if isinstance(self.extra, dict) else {}
        errors = [_with_source(error, request) for error in extra.pop("errors", [])]
        field = extra.get("field")
        if field and not errors:
            errors = [_with_source({"field": field, "message": self.detail}, request)]
        body = {
            "type": self.type_,
            "title": self.title,
            "status": self.status_code,
            "detail": self.detail,
            "instance": request.url.path,
            "errors": errors,
            **extra,
        }
        return Response(
            body, headers=self.headers, media_type=PROBLEM_JSON, status_code=self.status_code
        )


def _with_source(error: dict[str, Any], request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Domain errors name a field but not where it was: the request tells."""
    if error.get("source"):
        return error
    field = str(error.get("field", ""))
    if field in request.query_params:
        source = Source.QUERY
    elif field in request.path_params:
        source = Source.PATH
    elif field in request.headers:
        source = Source.HEADER
    else:
        source = Source.BODY
    return {**error, "source": str(source)}


# msgspec reports a missing or unknown field against the object that holds it ("data" for
# the body itself); the field meant is the one named in the message.
_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")


DOMAIN_KINDS: dict[type[DomainError], str] = {
    InvalidInput: "invalid-input",
    NotFound: "not-found",
    Forbidden: "forbidden",
    Conflict: "conflict",
    AuditUnavailable: "audit-unavailable",
}
HTTP_KINDS = {
    400: "validation",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    429: "too-many-requests",
    503: "unavailable",
}


def from_domain(exc: DomainError) -> ProblemException:
    kind = next((k for t, k in DOMAIN_KINDS.items() if isinstance(exc, t)), "validation")
    problem = ProblemException(exc.status, kind, exc.detail, **exc.extra)
    if exc.status == 503:  # the audit trail could not be written: as any outage, retry
        problem.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return problem


def field_of(item: dict[str, Any]) -> str:
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


def from_validation(exc: ValidationException) -> ProblemException:
    errors = [
        {
            "field": field_of(item),
            "message": _message_of(item),
            "source": item.get("source", "body"),
        }
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(exc.detail)
    return ProblemException(400, "validation", detail, errors=errors)


def from_http(exc: HTTPException) -> ProblemException:
    """Litestar's own refusals (401, 404, 405, 413, 429, a malformed body) as problems."""
    if exc.status_code == 400:
        # Litestar's 400s are about the request as a whole (such as an unreadable body).
        rule = str(exc.detail)
        error = {"field": "body", "message": rule, "source": "body"}
        problem = ProblemException(400, "validation", f"body: {rule}", errors=[error])
    else:
        kind = HTTP_KINDS.get(exc.status_code, "internal")
        problem = ProblemException(exc.status_code, kind, str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 429 and "RateLimit-Reset" in headers:
        headers["Retry-After"] = headers["RateLimit-Reset"]
    problem.headers = headers
    return problem


def from_integrity(exc: IntegrityError) -> ProblemException:
    """A constraint the database enforces was hit (usually a race); nothing was written."""
    log.info("integrity error: %s", exc.orig)
    return ProblemException(
        409,
        "conflict",
        "the change conflicts with the current state of the "
        "record (another change won); fetch it again and retry",
    )


def from_database(exc: DBAPIError) -> ProblemException:
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
        return ProblemException(
            400,
            "validation",
            f"request: {rule}",
            errors=[{"field": "request", "message": rule, "source": "body"}],
        )
    log.error("database error", exc_info=exc)
    return ProblemException(500, "internal", INTERNAL)


def from_unavailable(exc: Exception) -> ProblemException:
    """The database did not answer (stopped, frozen, restarting, locked): 503, try later.

    Logged as one line, not a traceback: in an outage every request fails the same way.
    An exception of these types that is not an outage is a fault of ours, and says so.
    """
    if not unavailable(exc):
        log.error("unexpected error", exc_info=exc)
        return ProblemException(500, "internal", INTERNAL)
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    problem = ProblemException(
        503,
        "unavailable",
        f"the database is not answering at the moment; try again in {RETRY_AFTER_SECONDS} seconds",
    )
    problem.headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return problem


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Last resort: log the cause, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return ProblemException(500, "internal", INTERNAL).to_response(request)


CONVERSIONS: dict[type[Exception], Any] = {
    DomainError: from_domain,
    ValidationException: from_validation,
    HTTPException: from_http,
    IntegrityError: from_integrity,
    DBAPIError: from_database,
    **dict.fromkeys(RAISED_BY_OUTAGES, from_unavailable),
}
"""Each exception the service answers for, and how it becomes a problem: the pages show
the same status and words in HTML (`problem_for`)."""


def problem_for(exc: Exception) -> ProblemException:
    """The problem the API would answer `exc` with (500, logged, for anything unknown)."""
    if isinstance(exc, ProblemException):
        return exc
    for exc_type, convert in CONVERSIONS.items():
        if isinstance(exc, exc_type):
            problem: ProblemException = convert(exc)
            return problem
    log.error("unexpected error", exc_info=exc)
    return ProblemException(500, "internal", INTERNAL)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map=CONVERSIONS,
        )
    )
