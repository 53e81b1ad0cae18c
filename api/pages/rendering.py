"""Rendering a page: the template, and what every page's layout needs to know.

Pages return `page(...)`; the layout (templates/base.html) then shows the service's
name, the signed-in person's role and organisation (names, not codes), the role's
navigation and the sign-out button. Each page family adds its navigation entries to
`NAVIGATION` under its role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from api.pages.auth import ORGANISATION
from placement.enums import Role
from placement.security import Principal

SERVICE_NAME = "Safe accommodation placements"
ROLE_NAMES = {
    Role.ADMIN: "Administrator",
    Role.HOUSING_OFFICER: "Housing officer",
    Role.INTEGRATION: "Integration",
    Role.PROVIDER: "Refuge provider",
    Role.COMMISSIONER: "Commissioner",
}


@dataclass(frozen=True, slots=True)
class NavItem:
    text: str
    href: str
    current: bool = False


NAVIGATION: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.ADMIN: (
        ("Users", "/admin/users"),
        ("API keys", "/admin/keys"),
        ("Authorities", "/admin/authorities"),
        ("Protocols", "/admin/protocols"),
    ),
    Role.COMMISSIONER: (("Reports", "/commissioner"),),
    Role.HOUSING_OFFICER: (("Referrals", "/officer"), ("Allocation", "/officer/allocation")),
    Role.INTEGRATION: (("Referrals", "/officer"), ("Allocation", "/officer/allocation")),
    Role.PROVIDER: (("Vacancies", "/provider"), ("Offers", "/provider/offers")),
}
"""Each role's navigation: (text, path); the longest entry whose path starts the current
one is marked current."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person as the layout shows them."""

    principal: Principal
    role_name: str
    organisation: str | None


def viewer_of(request: Request[Any, Any, Any]) -> Viewer | None:
    """The signed-in person, or None on a public page (the sign-in page)."""
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        return None
    return Viewer(principal, ROLE_NAMES[principal.role], request.state.get(ORGANISATION))


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    crumbs: list[tuple[str, str]] | None = None,
    **context: Any,
) -> Template:
    """The page `template` with `context`, the layout's parts and the breadcrumbs
    (`crumbs`: (text, path) pairs from the start page down to this page's parent)."""
    viewer = viewer_of(request)
    path = request.url.path
    entries = NAVIGATION.get(viewer.principal.role, ()) if viewer else ()
    # The longest entry the path falls under is current (/provider/offers is "Offers",
    # not "Vacancies" at /provider as well).
    under = [href for _, href in entries if path == href or path.startswith(href + "/")]
    current = max(under, key=len, default=None)
    nav = [NavItem(text, href, current=href == current) for text, href in entries]
    return Template(
        template_name=template,
        context={
            "service_name": SERVICE_NAME,
            "viewer": viewer,
            "nav": nav,
            "crumbs": crumbs or [],
            "errors": context.pop("errors", []),
            **context,
        },
        status_code=status_code,
    )
