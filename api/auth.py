"""Bearer-key authentication and role guards.

Authentication resolves the key to a `Principal` once per request; guards then check the
role. Scope (which rows) is not checked here: the services filter their queries by the
principal, so a forgotten guard cannot widen what a key sees.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
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
        scheme, _, key = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthorizedException(
                "send your API key as 'Authorization: Bearer <key>'", headers=CHALLENGE
            )
        key = key.strip()
        cache: PrincipalCache = connection.app.state.principals
        principal = cache.get(key)
        if principal is None:
            sessions: async_sessionmaker[Any] = connection.app.state.sessions
            async with sessions() as session:
                principal = await principal_for_key(session, key)
            if principal is not None:
                cache.put(key, principal)
        if principal is None:
            raise NotAuthorizedException("unknown or revoked API key", headers=CHALLENGE)
        return AuthenticationResult(user=principal, auth=principal.key_id)


def rate_limit_identity(request: Any) -> str:
    """Limit per authenticated key.

    The limiter runs after authentication, so an invented key is refused (401) before
    it could earn an allowance of its own; only real keys are counted, by their id.
    """
    principal: Principal = request.user
    return f"key:{principal.key_id}"


def allow(*roles: Role) -> Guard:
    """A guard admitting only the given roles."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(allowed))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"this needs one of the roles: {names}; your key is {principal.role}"
            )

    return guard


EVERYONE = allow(*Role)
REGISTRY_READERS = allow(*READERS)
REGISTRY_WRITERS = allow(Role.ADMIN, Role.PROVIDER)
ADMIN_ONLY = allow(Role.ADMIN)
OFFICERS = allow(*OFFICER_ROLES)
OFFICERS_AND_PROVIDERS = allow(*OFFICER_ROLES, Role.PROVIDER)
PROVIDERS = allow(Role.PROVIDER)
