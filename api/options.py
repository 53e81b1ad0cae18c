"""OPTIONS names every method of its path in `Allow`.

Litestar makes a path's OPTIONS handler with its first route and, when a later
controller method adds another verb to the same path, keeps that handler: its `Allow`
lists only the first route's methods (`/api/v1/units` answered `OPTIONS, POST`, without
GET). This hook, run as the answer leaves, sets `Allow` from the path's merged route.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


async def complete_allow(message: Message, scope: Scope) -> None:
    """On an OPTIONS answer of a routed path, `Allow` lists all of the path's methods."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    if not 200 <= message["status"] < 300:
        return
    template = scope.get("path_template")
    app: Any = scope.get("litestar_app")
    if template is None or app is None:
        return
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format == template:
            headers = MutableScopeHeaders.from_message(message)
            headers["Allow"] = ", ".join(sorted(route.methods))
            return
