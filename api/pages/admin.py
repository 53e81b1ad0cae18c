"""The administrator's pages: users and keys, authorities and protocols."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from api.auth import ADMIN_ONLY
from api.pages.rendering import page

HOME = [("Home", "/")]


class AdminPages(Controller):
    path = "/admin"
    guards = [ADMIN_ONLY]
    include_in_schema = False

    @get("/")
    async def landing(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "admin/landing.html")
