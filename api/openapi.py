"""What the OpenAPI document says every operation can answer besides success.

Each `/api/v1` operation documents the problems it can return, all with the `Problem`
schema as `application/problem+json`, from one set of rules rather than a list kept by
hand on every handler (which would drift): every call can be refused for its key (401),
its role (403), its rate (429) or an unavailable audit trail or database (503); one with
parameters or a body for their shape (400); one with a path id for a record out of scope
(404); one with a body for its size (413) and for breaking a rule (422); a write for a
conflict with the record's state (409). A 201 names the new record in `Location`.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import ResponseHeader
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute

from api.problems import PROBLEM_JSON, Problem

API_PREFIX = "/api/v1"
WRITES = {"POST", "PATCH", "PUT", "DELETE"}
DESCRIPTIONS = {
    400: "The request is malformed: `errors` names each field and the rule it broke.",
    401: "No API key, or an unknown or revoked one.",
    403: "Your key's role may not do this.",
    404: "No such record within your key's scope.",
    409: "The change conflicts with the record's current state; fetch it again.",
    413: "The request body is too large.",
    422: "Well formed, but it breaks a rule of the service: `errors` names the field.",
    429: "Too many requests; wait the seconds in `Retry-After`.",
    503: "Unavailable just now (the audit trail or the database); retry shortly.",
}
EXAMPLE = Example(
    summary="a number sent as text",
    value={
        "type": "/docs/problems#validation",
        "title": "Invalid request",
        "status": 400,
        "detail": "bed_spaces: Expected `int`, got `str`",
        "instance": "/api/v1/units",
        "errors": [
            {"field": "bed_spaces", "message": "Expected `int`, got `str`", "source": "body"}
        ],
    },
)
LOCATION = ResponseHeader(
    name="Location",
    description="the path of the record just created (a 202: of the job)",
    documentation_only=True,
)


def statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> list[int]:
    """The problem statuses this operation can answer with, by the rules above."""
    parameters = handler.parsed_fn_signature.parameters
    has_body = "data" in parameters
    codes = {401, 403, 429, 503}
    has_parameters = any(
        isinstance(p.kwarg_definition, ParameterKwarg) for p in parameters.values()
    )
    if has_body or has_parameters or route.path_parameters:
        codes.add(400)
    if route.path_parameters:
        codes.add(404)
    if has_body:
        codes |= {413, 422}
    if handler.http_methods & WRITES:
        codes |= {409, 422}
    return sorted(codes)


def problem_response(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=DESCRIPTIONS[status],
        generate_examples=False,
        examples=[EXAMPLE] if status == 400 else None,
    )


def document_problems(app: Litestar) -> None:
    """Give every `/api/v1` operation its problem responses (and a 201 or 202 its
    Location)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            documented = {code: problem_response(code) for code in statuses(route, handler)}
            handler.responses = {**documented, **(handler.responses or {})}
            if handler.status_code in (201, 202):
                handler.response_headers = [*(handler.response_headers or []), LOCATION]
