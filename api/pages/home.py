"""The start page: each role to its own landing page."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Redirect

from placement.enums import Role
from placement.security import Principal

LANDING = {
    Role.ADMIN: "/admin",
    Role.COMMISSIONER: "/commissioner",
    Role.HOUSING_OFFICER: "/officer",
    Role.INTEGRATION: "/officer",
    Role.PROVIDER: "/provider",
}


@get("/", include_in_schema=False)
async def home(principal: NamedDependency[Principal]) -> Redirect:
    return Redirect(path=LANDING[principal.role], status_code=303)
