"""The pages for people: server-rendered GOV.UK pages on the same services as the API.

How the pieces fit (see also the README's "Pages" section):
- `pages_router` is one Litestar router at `/` holding every page family's handlers
  (`session`, `home`, `admin`, `commissioner`, `what_if`; the officer and provider families add
  theirs to `PAGE_HANDLERS`). Its middleware signs people in (`auth`: database sessions,
  the account's `Principal`) and checks CSRF on every unsafe request.
- A page handler takes `principal` and `db_session` (or a service through
  `api.common.provide`) exactly as an API handler does, and guards with `api.auth.allow`;
  it returns `rendering.page(request, "family/name.html", ...)`.
- Forms: `forms.read_form` into a msgspec Struct, then the domain service; a
  `FormInvalid` or the domain's `InvalidInput` becomes the form again with status 422
  and its error summary (`forms.errors_of`); nothing is written.
- Errors otherwise are pages (`errors`): no session -> the sign-in page; anything else,
  the API's problem as HTML.
- Templates under `templates/` (`base.html`, `macros.html`); GOV.UK Frontend and htmx
  served from node_modules (`assets`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Router
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from api.common import provide_principal
from api.pages import admin, commissioner, home, officer, provider, session, what_if
from api.pages.auth import csrf_middleware, session_auth
from api.pages.errors import EXCEPTION_HANDLERS
from placement.config import Settings
from placement.crypto import Cipher

TEMPLATES = Path(__file__).resolve().parent / "templates"

PAGE_HANDLERS: list[ControllerRouterHandler] = [
    session.SessionPages,
    home.home,
    admin.AdminPages,
    commissioner.landing,
    commissioner.part4_report,
    what_if.WhatIfPages,
    provider.VacancyPages,
    provider.InboxPages,
    *officer.HANDLERS,
]


def template_config() -> TemplateConfig[Any]:
    """Jinja, autoescaping (Litestar's default), templates from `api/pages/templates`."""
    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine)


def pages_router(settings: Settings, alchemy: SQLAlchemyAsyncConfig, cipher: Cipher) -> Router:
    """Every page, behind sign-in (except the sign-in page) and CSRF checks."""
    return Router(
        path="/",
        route_handlers=PAGE_HANDLERS,
        middleware=[csrf_middleware(settings, cipher), session_auth(settings, alchemy).middleware],
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
