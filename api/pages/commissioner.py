"""The commissioner's landing page: links to the reports (aggregates only)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from api.auth import allow
from api.pages.rendering import page
from placement.enums import Role

REPORTS = (
    (
        "Part 4 provision return",
        "/api/v1/reports/part4",
        "Safe accommodation provided and the support given, as DLUHC's annual return asks",
    ),
)
"""(name, path, what it is). A report whose path the app does not serve is listed as
coming soon; the reports' own pages replace these links when they exist."""


@get("/commissioner", guards=[allow(Role.COMMISSIONER, Role.ADMIN)], include_in_schema=False)
async def landing(request: Request[Any, Any, Any]) -> Template:
    served = {route.path for route in request.app.routes}
    reports = [
        {"name": name, "href": path if path in served else None, "about": about}
        for name, path, about in REPORTS
    ]
    return page(request, "commissioner/landing.html", reports=reports)
