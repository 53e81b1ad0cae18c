"""The kinds of problem the service answers with, and the page that explains each.

Every problem document's `type` is `/docs/problems#<kind>` on the service itself (RFC
9457 allows a relative reference), so a client, or a person reading a log, can look up
what went wrong and what to do about it without a key.
"""

from __future__ import annotations

from html import escape

from litestar import MediaType, get

DOCS_PATH = "/docs/problems"

# kind -> (title, what it means and what to do)
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "validation": (
        "Invalid request",
        "The request is not in the shape the API declares: malformed JSON, a value of the "
        "wrong type (a number sent as text, a fraction for a whole number), a missing or "
        "unknown field, a value outside its range or not in its list. `errors` names each "
        "field, where it was (body, query, path, header) and the rule. Nothing was written.",
    ),
    "invalid-input": (
        "Invalid input",
        "The request is well formed but breaks a rule of the service: an unknown authority "
        "or provider, a point outside England or outside its authority, an impossible "
        "protocol. `errors` names the field. Nothing was written.",
    ),
    "unauthorized": (
        "Unauthorized",
        "No API key was sent, or the key is unknown or revoked. Send "
        "`Authorization: Bearer <key>`; ask an administrator for a key.",
    ),
    "forbidden": (
        "Forbidden",
        "Your key's role may never do this. Records outside your key's scope are not "
        "forbidden but not found, so that their existence does not leak.",
    ),
    "not-found": (
        "Not found",
        "There is no such record within your key's scope, or no such path.",
    ),
    "method-not-allowed": (
        "Method not allowed",
        "The path exists but does not answer this method; the `Allow` header lists those it does.",
    ),
    "cors": (
        "Cross-origin request refused",
        "A browser's preflight asked to call the API from an origin, with a method or with "
        "headers that the service does not allow (`PLACEMENT_CORS_ORIGINS`). `errors` names "
        "each refused request header. Nothing was done.",
    ),
    "conflict": (
        "Conflict",
        "The change conflicts with the record's current state: a stale version, a unit "
        "someone else holds, a decided offer, a duplicate reference. Fetch it again and "
        "decide; nothing was written.",
    ),
    "too-large": (
        "Request body too large",
        "The body is larger than the service accepts (PLACEMENT_MAX_BODY_BYTES).",
    ),
    "too-many-requests": (
        "Too many requests",
        "Your key (or, for unknown keys, your address) sent more requests than allowed "
        "this minute. Wait the seconds in `Retry-After`, then retry.",
    ),
    "audit-unavailable": (
        "Service unavailable",
        "A read of secret or household data could not be recorded in the audit trail, so "
        "the data is not released. Retry shortly.",
    ),
    "unavailable": (
        "Service unavailable",
        "The service cannot answer just now (for example, its database is not reachable). "
        "Retry shortly.",
    ),
    "internal": (
        "Internal error",
        "Something went wrong on our side. It has been logged; nothing internal is shown.",
    ),
}


def type_uri(kind: str) -> str:
    """The `type` of a problem of this kind: its section of the explanations page."""
    return f"{DOCS_PATH}#{kind}"


def _page() -> str:
    sections = "\n".join(
        f'<section id="{kind}"><h2>{escape(title)}</h2><p><code>{escape(type_uri(kind))}'
        f"</code></p><p>{escape(text)}</p></section>"
        for kind, (title, text) in PROBLEM_TYPES.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Problem types</title></head><body><h1>Problem types</h1>"
        "<p>Errors are RFC 9457 problem documents (<code>application/problem+json</code>). "
        "Their <code>type</code> links to one of the sections below.</p>"
        f"{sections}</body></html>"
    )


PAGE = _page()


@get(DOCS_PATH, media_type=MediaType.HTML, tags=["docs"], summary="What each problem type means")
async def problem_types_page() -> str:
    """Open to all, like `/health`: it explains errors and holds nothing secret."""
    return PAGE
