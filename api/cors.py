"""CORS: off unless origins are configured, and a refused preflight is a problem document.

Litestar's CORS middleware does the checking (origin, method, request headers). Its
refusal is a bare `text/plain` 400, unlike every other error of the service, so the
preflight answer is made here as a problem naming each refused header. The middleware
is the app's outermost one, before the key check: a preflight carries no key.
"""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.datastructures import Headers
from litestar.middleware import DefineMiddleware
from litestar.middleware._internal.cors import CORSMiddleware
from litestar.response import Response

from api.problems import ProblemException
from placement.config import Settings

# What each of Litestar's preflight checks looks at, as the request header to name.
REFUSED_HEADER = {
    "Origin": ("Origin", "this origin may not call the service (PLACEMENT_CORS_ORIGINS)"),
    "method": ("Access-Control-Request-Method", "this method is not allowed from a browser"),
    "headers": ("Access-Control-Request-Headers", "a requested header is not allowed"),
}


class ProblemCORSMiddleware(CORSMiddleware):
    """Litestar's CORS checks; a refused preflight answers a 400 problem."""

    def _create_preflight_response(
        self, origin: str, request_headers: Headers
    ) -> Response[str | None]:
        response = super()._create_preflight_response(origin, request_headers)
        if (response.status_code or 0) < 400:
            return response
        refused = str(response.content).removeprefix("Disallowed CORS ").split(", ")
        errors = [
            {"field": REFUSED_HEADER[what][0], "message": REFUSED_HEADER[what][1]}
            for what in refused
            if what in REFUSED_HEADER
        ]
        raise ProblemException(
            400,
            "cors",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=[{**e, "source": "header"} for e in errors],
        )


def cors_config(settings: Settings) -> CORSConfig | None:
    """CORS for the origins configured (PLACEMENT_CORS_ORIGINS), or none: off by default.

    Browsers may then send the key and a JSON body, and read the headers a client needs
    (Location, Retry-After, the rate-limit ones). No cookies: keys travel in a header.
    """
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=[
            "Location",
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "RateLimit-Policy",
            "Idempotent-Replayed",
        ],
        allow_credentials=False,
        max_age=600,
    )


def cors_middleware(settings: Settings) -> list[DefineMiddleware]:
    """The app's CORS middleware, if any origins are configured."""
    config = cors_config(settings)
    return [] if config is None else [DefineMiddleware(ProblemCORSMiddleware, config=config)]
