"""Signing people in to the pages: server-side sessions, the principal a session acts as,
and CSRF protection, all from Litestar and advanced-alchemy rather than our own.

- Sessions: Litestar's `SessionAuth` (session middleware and authentication middleware)
  over advanced-alchemy's SQLAlchemy session backend, so sessions live in the database
  (`page_sessions`) and every worker sees a sign-in or sign-out at once. The cookie holds
  only a random id; it is `Secure` (unless PLACEMENT_INSECURE_COOKIES=1 for plain-http
  development), `HttpOnly` and `SameSite=Strict`. A session unused for
  PLACEMENT_SESSION_IDLE_SECONDS ends (the backend pushes the expiry on each use); one
  older than PLACEMENT_SESSION_MAX_SECONDS ends however much it is used.
- Principal: each request looks the account up (`placement.accounts.principal_for_user`),
  so a disabled account's sessions stop at once; the principal is the same type an API
  key yields, so pages call the same services with the same row filters.
- CSRF: Litestar's `CSRFMiddleware` on every unsafe request to the pages (a form's hidden
  `_csrf_token`, or htmx's `X-CSRFToken` header); without a valid token: 403.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar.session import SQLAlchemyAsyncSessionBackend
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.pages.assets import ASSET_PREFIXES
from placement.accounts import principal_for_user
from placement.config import Settings
from placement.crypto import Cipher
from placement.models import Authority, PageSession, Provider
from placement.security import Principal

SESSION_COOKIE = "placement_session"
CSRF_COOKIE = "placement_csrf"
CSRF_HEADER = "x-csrftoken"
USER_ID = "user_id"
SIGNED_IN_AT = "signed_in_at"
ROTATE = "rotate_session"
"""Set in a request's state by the sign-in page: the session gets a new id (see below)."""
LOADED = "page_session_loaded"
ORGANISATION = "organisation"
"""The request state's name for the signed-in person's authority or provider name."""
PUBLIC_PATHS = ["^/sign-in", *(f"^{prefix}" for prefix in ASSET_PREFIXES)]
"""Pages anyone may load: the sign-in page and the static assets."""


class PageSessionBackend(SQLAlchemyAsyncSessionBackend):
    """advanced-alchemy's backend, with a new session id at sign-in.

    Litestar keeps the id of the cookie a browser sends; a session id planted in a
    browser before its owner signs in would then be signed in too (session fixation).
    The sign-in page asks for a fresh id instead.
    """

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        """As Litestar's (the backend also pushes the idle expiry on), remembering what
        was loaded, so an unchanged session is not written back (`store_in_message`)."""
        data = await super().load_from_connection(connection)
        connection.state[LOADED] = dict(data)
        return data

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        """As Litestar's, but writing only a session that changed.

        Litestar writes the session back on every response, from a connection of its own
        and before the request's transaction commits: on SQLite that write waited for the
        request's own write lock. Only signing in and out change a session (and they
        commit first); otherwise the cookie is sent again (its Max-Age renewed, as the
        row's expiry was on loading) and nothing is written. An empty session is no row
        and no cookie: visitors who have not signed in leave nothing in the database.
        """
        if scope_session is not Empty and not scope_session:
            if connection.cookies.get(self.config.key, "null") == "null":
                return
            scope_session = Empty
        if scope_session is not Empty and scope_session == connection.state.get(LOADED):
            cookie = Cookie(
                value=self.get_session_id(connection),
                key=self.config.key,
                **dict(
                    extract_dataclass_items(
                        self.config, exclude_none=True, include=Cookie.__dict__.keys()
                    )
                ),
            )
            MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))
            return
        await super().store_in_message(scope_session, message, connection)

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        if connection.state.get(ROTATE):
            rotated: str = connection.state.get("rotated_session_id") or self.generate_session_id()
            connection.state["rotated_session_id"] = rotated
            return rotated
        return super().get_session_id(connection)


def session_auth(settings: Settings, alchemy: SQLAlchemyAsyncConfig) -> SessionAuth[Any, Any]:
    """The sessions and their authentication, for the pages' router's middleware."""
    config = ServerSideSessionConfig(
        key=SESSION_COOKIE,
        max_age=settings.session_idle_seconds,
        secure=not settings.insecure_cookies,
        httponly=True,
        samesite="strict",
    )
    backend = PageSessionBackend(config=config, alchemy_config=alchemy, model=PageSession)
    return _SessionAuth(
        session_backend_config=config,
        retrieve_user_handler=retrieve_principal,
        exclude=PUBLIC_PATHS,
        backend=backend,
    )


@dataclass
class _SessionAuth(SessionAuth[Any, Any]):
    """Litestar's `SessionAuth`, given the advanced-alchemy backend (Litestar's own would
    build a store-based backend from the config alone)."""

    backend: PageSessionBackend | None = None

    @property
    def session_backend(self) -> Any:
        return self.backend


async def retrieve_principal(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> Principal | None:
    """The principal of a signed-in session, or None (the session is then cleared)."""
    settings: Settings = connection.app.state.settings
    signed_in_at = session.get(SIGNED_IN_AT)
    user_id = session.get(USER_ID)
    if not isinstance(signed_in_at, int | float) or not isinstance(user_id, str):
        return None
    if time.time() - signed_in_at > settings.session_max_seconds:
        return None
    sessions: async_sessionmaker[Any] = connection.app.state.sessions
    async with sessions() as db:
        principal = await principal_for_user(db, uuid.UUID(user_id))
        if principal is not None:
            connection.state[ORGANISATION] = await organisation_name(db, principal)
    return principal


async def organisation_name(db: Any, principal: Principal) -> str | None:
    """The name people see for the principal's scope: authority, provider or region."""
    if principal.provider_id is not None:
        provider = await db.get(Provider, principal.provider_id)
        return provider.name if provider is not None else None
    if principal.authority_code is not None:
        authority = await db.get(Authority, principal.authority_code)
        return authority.name if authority is not None else None
    return principal.region


def start_session(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    """Sign `principal` in on this connection: a new session id, the account, the time."""
    connection.state[ROTATE] = True
    connection.set_session({USER_ID: str(principal.user_id), SIGNED_IN_AT: int(time.time())})


def csrf_middleware(settings: Settings, cipher: Cipher) -> DefineMiddleware:
    """Litestar's CSRF check for the pages' unsafe requests, its secret derived from the
    service's key so every worker checks every other's tokens."""
    config = CSRFConfig(
        secret=cipher.derive("csrf"),
        cookie_name=CSRF_COOKIE,
        cookie_secure=not settings.insecure_cookies,
        cookie_httponly=True,
        cookie_samesite="strict",
        header_name=CSRF_HEADER,
    )
    return DefineMiddleware(CSRFMiddleware, config=config)
