"""Pieces every controller uses: paging, the one way services are provided, the envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response.base import ASGIResponse
from sqlalchemy.ext.asyncio import AsyncSession

from placement import paging
from placement.runtime import Runtime
from placement.security import Principal

T = TypeVar("T")
R = TypeVar("R")

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (1 to 500)")]
# Bounded so that an absurd value is a 400, not an integer overflow in the database driver.
MAX_OFFSET = 2_147_483_647
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="rows to skip")]
IncludeRetired = Annotated[bool, QueryParameter(description="include retired records")]


class Page(msgspec.Struct, Generic[T]):
    """A page of results; `total` counts every row matching the filters."""

    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(page: paging.Page[R], view: Callable[[R], T]) -> Page[T]:
    """A domain page on the wire, each item through `view`."""
    return Page([view(item) for item in page.items], page.total, page.limit, page.offset)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.user
    return principal


def provide(service: Callable[[AsyncSession, Principal, Runtime], Any]) -> Provide:
    """A dependency building `service` for this request: its transaction, its principal,
    and the worker's shared parts. Every service is made this way.

    The principal is read from the request as `provide_principal` does, not asked for as
    a dependency: Litestar resolves two dependencies of one level concurrently, in a task
    group with a task for each, which for two attribute reads cost more than the match's
    own query."""

    def build(
        db_session: NamedDependency[AsyncSession], request: Request[Any, Any, Any], state: State
    ) -> Any:
        return service(db_session, provide_principal(request), state.runtime)

    return Provide(build, sync_to_thread=False)


class ApiResponse(Response[T]):
    """A response that, for a 201, names the record made in `Location`: the path posted
    to and the record's id (an authority's is its code)."""

    def to_asgi_response(
        self, app: Litestar | None, request: Request[Any, Any, Any], **kwargs: Any
    ) -> ASGIResponse:
        status = kwargs.get("status_code") or self.status_code
        if status == 201 and "location" not in {name.lower() for name in self.headers}:
            identity = getattr(self.content, "id", None) or getattr(self.content, "code", None)
            if identity is not None:
                self.headers["Location"] = f"{request.url.path.rstrip('/')}/{identity}"
        return super().to_asgi_response(app, request, **kwargs)
