"""Strict decoding of requests: a value is taken only in the type the contract declares.

Litestar converts request bodies and query parameters in msgspec's lax mode, made for
text-only inputs: it would take `"2"` or `2.0` for an integer, `"1"` for a boolean and
`0.5` for a date-time (seconds since 1970). A body is JSON, which has numbers and
booleans of its own, so it is decoded strictly against the handler's declared type
(`StrictRequest`); a query parameter is text, so it is read as the JSON value it spells:
a number or boolean must be written as one, anything else (dates, ids, names) is read
as a string (`check_query`). Litestar's own lax pass then only ever sees values that
already hold, and converts them unchanged.

Errors are raised as Litestar's `ValidationException`, shaped as its own are (`key`,
`message`, `source`), so `api.problems` turns both into the same problem document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

import msgspec
import msgspec.inspect as mi
from litestar import Request
from litestar.enums import ParamType
from litestar.exceptions import ValidationException
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.params import ParameterKwarg
from litestar.types import Empty

# msgspec ends a message with the path of the value it is about: "... - at `$.a[0].b`".
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_LITERALS: dict[type[mi.Type], str] = {
    mi.IntType: "a whole number",
    mi.FloatType: "a number",
    mi.BoolType: "true or false",
}


def field_error(exc: msgspec.DecodeError, target: Any, source: str) -> dict[str, str]:
    """One error in Litestar's shape, the enum's values added when the value was not one."""
    text = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return {"key": "", "message": text, "source": source}
    found = _AT.search(text)
    path = found.group("path") if found else ""
    message = text[: found.start()] if found else text
    if message.startswith("Invalid enum value"):
        values = _enum_values(mi.type_info(target), path)
        if values:
            message += "; allowed: " + ", ".join(values)
    return {"key": path.removeprefix("."), "message": message, "source": source}


def _enum_values(info: mi.Type, path: str) -> list[str]:
    """The values of the enum found by following `path` ("" for `info` itself)."""
    for name, index in _PATH_PART.findall(path):
        info = _step(info, name, index)
    for kind in _alternatives(info):
        if isinstance(kind, mi.EnumType):
            return [str(member.value) for member in kind.cls]
    return []


def _step(info: mi.Type, name: str, index: str) -> mi.Type:
    for kind in _alternatives(info):
        if name and isinstance(kind, mi.StructType):
            for field in kind.fields:
                if field.encode_name == name:
                    return field.type
        if index and isinstance(kind, mi.ListType | mi.SetType | mi.FrozenSetType):
            return kind.item_type
    return mi.AnyType()


def _alternatives(info: mi.Type) -> tuple[mi.Type, ...]:
    """The types a value may have here, constraints and descriptions set aside."""
    info = _bare(info)
    return tuple(map(_bare, info.types)) if isinstance(info, mi.UnionType) else (info,)


def _bare(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


@cache
def _body_decoder(target: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(target)


class StrictRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded strictly into the handler's `data` type."""

    async def json(self) -> Any:
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            return await super().json()
        if self._json is Empty:
            body = await self.body()
            try:
                self._json = _body_decoder(data.annotation).decode(body or b"null")
            except msgspec.DecodeError as exc:
                raise ValidationException(
                    "the request body does not match its schema",
                    extra=[field_error(exc, data.annotation, "body")],
                ) from exc
        return self._json


@dataclass(frozen=True)
class _QueryField:
    name: str
    target: Any
    literal: str | None  # for a number or boolean, what it must be written as


_QUERY_FIELDS: WeakKeyDictionary[Callable[..., Any], tuple[_QueryField, ...]] = WeakKeyDictionary()
"""Each handler's query fields, kept for as long as its function (a controller's bound
method: one for each app). A cache holding the handler itself would keep alive every app
ever made in the process, as the tests make hundreds."""


def _query_fields(handler: HTTPRouteHandler) -> tuple[_QueryField, ...]:
    """The handler's query parameters (worked out once per handler)."""
    fields = _QUERY_FIELDS.get(handler.fn)
    if fields is None:
        fields = _QUERY_FIELDS[handler.fn] = _declared_query_fields(handler)
    return fields


def _declared_query_fields(handler: HTTPRouteHandler) -> tuple[_QueryField, ...]:
    """The handler's query parameters, each with the type (and constraints) it declares."""
    parameters = handler.parsed_fn_signature.parameters
    fields = []
    for field in msgspec.structs.fields(handler.signature_model):
        kwarg = parameters[field.name].kwarg_definition
        if not isinstance(kwarg, ParameterKwarg) or kwarg.param_type is not ParamType.QUERY:
            continue
        kinds = [
            k for k in _alternatives(mi.type_info(field.type)) if not isinstance(k, mi.NoneType)
        ]
        literal = _LITERALS.get(type(kinds[0])) if len(kinds) == 1 else None
        fields.append(_QueryField(kwarg.name or kwarg.query or field.name, field.type, literal))
    return tuple(fields)


def _query_error(field: _QueryField, raw: str) -> dict[str, str] | None:
    text = raw.encode() if field.literal else msgspec.json.encode(raw)
    try:
        msgspec.json.decode(text, type=field.target)
    except msgspec.ValidationError as exc:
        return field_error(exc, field.target, "query") | {"key": field.name}
    except msgspec.DecodeError:
        return {"key": field.name, "message": f"Expected {field.literal}, got {raw!r}"}
    return None


async def check_query(request: Request[Any, Any, Any]) -> None:
    """Refuse the request (400) if a query parameter is not strictly of its declared type.

    A coroutine although it awaits nothing: Litestar would run a plain function in a
    worker thread, a hop on every request."""
    errors = []
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler):
        return
    for field in _query_fields(handler):
        for raw in request.query_params.getall(field.name, []):
            if (error := _query_error(field, raw)) is not None:
                errors.append({"source": "query", **error})
    if errors:
        raise ValidationException("a query parameter does not match its schema", extra=errors)
