"""Bearer-key authentication and role guards.

Authentication resolves the key to a `Principal` once per request; guards then check the
role. Scope (which rows) is not checked here: the services filter their queries by the
principal, so a forgotten guard cannot widen what a key sees.
"""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.rate_limit import get_remote_address
from litestar.types import Guard
from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.enums import OFFICER_ROLES, Role
from placement.registry.base import READERS
from placement.security import Principal, PrincipalCache, principal_for_key

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="placement"'}


class BearerKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scope: Any = connection.scope
        key, principal = scope.pop(LOOKED_UP, None) or _looked_up(connection)
        if not key:
            raise NotAuthorizedException(
                "send your API key as 'Authorization: Bearer <key>'", headers=CHALLENGE
            )
        if principal is None:
            cache: PrincipalCache = connection.app.state.principals
            sessions: async_sessionmaker[Any] = connection.app.state.sessions
            async with sessions() as session:
                principal = await principal_for_key(session, key)
            if principal is not None:
                cache.put(key, principal)
        if principal is None:
            raise NotAuthorizedException("unknown or revoked API key", headers=CHALLENGE)
        return AuthenticationResult(user=principal, auth=principal.key_id)


LOOKED_UP = "placement.key_looked_up"
"""Where `key_unchecked` leaves the request's key and its cached principal (or None) for
the key check after it: one parse of the header and one hash of the key a request."""


def _looked_up(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, Principal | None]:
    """The key presented, and its principal if this worker checked it lately."""
    key = _presented_key(connection)
    cache: PrincipalCache = connection.app.state.principals
    return key, cache.get(key) if key else None


def _presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, key = connection.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Who a request counts against: its key once authenticated, else its address.

    The per-key limiter runs after authentication, so an invented key is refused (401)
    before it could earn an allowance of its own; only real keys are counted by id.
    Requests the key check lets through unauthenticated (CORS preflights, OPTIONS)
    count against the client's address.
    """
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        return f"key:{principal.key_id}"
    return f"address:{get_remote_address(request)}"


async def key_unchecked(request: Request[Any, Any, Any]) -> bool:
    """Whether checking this request's key would cost a database lookup.

    The limiter before authentication counts only these, per client address, so
    invented keys cannot hammer the key table; a key this worker checked recently is
    in its cache and costs nothing. (With PLACEMENT_KEY_CACHE_SECONDS=0 every request
    counts.) Requests without a key are refused without a lookup and are not counted.
    A coroutine, as every hook on a request's path is: Litestar runs a plain function in
    a worker thread, a hop per request. What it found is left for the key check
    (`LOOKED_UP`).
    """
    scope: Any = request.scope
    key, principal = scope[LOOKED_UP] = _looked_up(request)
    return bool(key) and principal is None


def allow(*roles: Role) -> Guard:
    """A guard admitting only the given roles (a coroutine: see `key_unchecked`)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(allowed))

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # it names a path's methods, nothing more; it needs no key (nor role)
        principal: Principal = connection.user
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"this needs one of the roles: {names}; your key is {principal.role}"
            )

    return guard


class GuardedInPlace(HTTPRouteHandler):
    """A route handler whose guards are given the handler itself.

    Litestar gives each guard a shallow copy of the handler, a copy per guard per request
    (2% of a match request's time, sampled), in case a guard changed it; ours (`allow`)
    never look at it. For the hot read routes (matches), through `get_guarded`.
    """

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        for guard in self.resolve_guards():
            await guard(connection, self)  # type: ignore[misc]


def get_guarded(path: str, **options: Any) -> GuardedInPlace:
    """As Litestar's `@get(path, ...)`, the handler a `GuardedInPlace`."""
    return GuardedInPlace(path, http_method=HttpMethod.GET, **options)


EVERYONE = allow(*Role)
REGISTRY_READERS = allow(*READERS)
REGISTRY_WRITERS = allow(Role.ADMIN, Role.PROVIDER)
ADMIN_ONLY = allow(Role.ADMIN)
OFFICERS = allow(*OFFICER_ROLES)
OFFICERS_AND_PROVIDERS = allow(*OFFICER_ROLES, Role.PROVIDER)
PROVIDERS = allow(Role.PROVIDER)
