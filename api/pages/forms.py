"""Reading a posted form, and the errors shown back in its error summary.

A form is decoded into a msgspec Struct, as the API decodes a JSON body, and then goes
to the same domain service: the rules (and their words) are the API's. Shape errors come
from msgspec (`api.strict` names the field), rule errors from the domain's
`InvalidInput`; both become `FieldError`s for the summary and the fields. A form that
fails is shown again with status 422 and nothing written: the request's transaction is
rolled back (the SQLAlchemy plugin commits only 2xx responses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
from litestar import Request

from api.problems import field_of
from api.strict import field_error
from placement.errors import InvalidInput

S = TypeVar("S", bound=msgspec.Struct)
INVALID = 422


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with a form: the field (its input's id) and the rule, in words."""

    field: str
    message: str

    @property
    def anchor(self) -> str:
        return self.field or "main-content"


class FormInvalid(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def errors_of(
    exc: InvalidInput | msgspec.ValidationError,
    form_type: Any = None,
    required: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """The summary's errors for a domain rule or a msgspec decoding error.

    A missing field gets the form's own words for it (`required`, e.g. "Enter your email
    address"), as GOV.UK's pattern asks.
    """
    if isinstance(exc, InvalidInput):
        return [FieldError(exc.field, exc.rule)]
    error = field_error(exc, form_type, "body")
    field = field_of(error)
    message = error["message"]
    if message.startswith("Object missing required field"):
        message = (required or {}).get(field, f"Enter the {field.replace('_', ' ')}")
    return [FieldError(field, message)]


async def read_form(
    request: Request[Any, Any, Any], form_type: type[S], required: Mapping[str, str] | None = None
) -> S:
    """The posted form as `form_type`; raises `FormInvalid` naming the field at fault.

    Empty fields are left out (so a field's default, or "required", applies); a field
    declared as a list takes every value posted under its name (checkboxes).
    """
    form = await request.form()
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(form_type):
        name = field.encode_name
        if _is_list(field.type):
            values[name] = [v for v in form.getall(name, []) if v != ""]
            continue
        raw = form.get(name)
        if isinstance(raw, str) and raw.strip() != "":
            values[name] = raw.strip()
    try:
        return msgspec.convert(values, form_type, strict=False)
    except msgspec.ValidationError as exc:
        raise FormInvalid(errors_of(exc, form_type, required)) from exc


def _is_list(annotation: Any) -> bool:
    info = mi.type_info(annotation)
    while isinstance(info, mi.Metadata):
        info = info.type
    return isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType)
