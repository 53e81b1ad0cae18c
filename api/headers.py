"""Headers every response carries, errors included: caching, sniffing, framing, referrers.

Set in a `before_send` hook, the last thing before the ASGI server, so they also reach
responses no handler made: 401 from the key check, 404 for unknown paths, 405, 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.types import Message, Scope

# The API returns JSON only: nothing may load, run or frame it.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The docs pages (Scalar, Swagger UI) load only the service's own pinned assets
# (api/docs_assets.py); Swagger UI starts from an inline script holding the document and
# both renderers inject styles, hence 'unsafe-inline' for those two. Nothing else loads.
DOCS_POLICY = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# The pages for people (api/pages) load only the service's own scripts, styles, fonts
# and images (GOV.UK Frontend, htmx, their starter script): nothing inline, no CDN; forms
# post only to the service.
PAGES_POLICY = (
    "default-src 'none'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "manifest-src 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# A report page (`format=html` of /api/v1/reports): the service's own stylesheets and
# fonts, its charts as `data:` images, nothing inline and never a script.
REPORT_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_PREFIX = "/schema"
API_PREFIX = "/api/"
STATIC_PREFIXES = ("/assets/", "/static/")
ALWAYS = {b"x-content-type-options": b"nosniff", b"referrer-policy": b"no-referrer"}
NO_STORE = {b"cache-control": b"no-store"}


async def security_headers(message: Message, scope: Scope) -> None:
    """Add the headers to the start of every HTTP response."""
    if message["type"] != "http.response.start":
        return
    path: str = scope.get("path", "")
    content_type = next(
        (value for name, value in message.get("headers", ()) if name.lower() == b"content-type"),
        b"",
    )
    policy = _policy(path, content_type.decode("latin-1"))
    values = ALWAYS | {b"content-security-policy": policy.encode()}
    if not path.startswith((*STATIC_PREFIXES, DOCS_PREFIX)):
        # Responses (API and pages) name households and addresses: no cache, shared or
        # private, keeps them.
        values |= NO_STORE
    set_headers(message, values)


def set_headers(message: Message, values: Mapping[bytes, bytes]) -> None:
    """Set headers (lower-case names) on a response's start, replacing any of the same
    names, in one pass over the ones it has: Litestar's `MutableScopeHeaders` scans them
    all, decoding every name, for each header set, several times on every response."""
    start: Any = message
    kept = [(name, value) for name, value in start.get("headers", ()) if name.lower() not in values]
    start["headers"] = [*kept, *values.items()]


def _policy(path: str, content_type: str) -> str:
    """The policy for a response: the API's, a report page's for the API's HTML, the
    docs' and the pages'."""
    html = content_type.startswith("text/html")
    if path.startswith(API_PREFIX):
        return REPORT_PAGE_POLICY if html else API_POLICY
    if path.startswith(DOCS_PREFIX):
        return DOCS_POLICY
    return PAGES_POLICY
