"""Pieces every controller uses: paging, dependencies, and the page envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.params import QueryParameter

from placement.crypto import Cipher
from placement.security import Principal

T = TypeVar("T")

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


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.user
    return principal


def provide_cipher(state: State) -> Cipher:
    cipher: Cipher = state.cipher
    return cipher


def set_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually sent (UNSET ones are left alone)."""
    return {
        name: value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }
