"""Constrained field types that several records share, and the fields a change carries.

An ONS code or a language tag means the same thing in a referral, a scheme, a protocol
and a key, so its rule lives here and every schema (the API's wire types, the pages'
forms) validates it alike.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta

ONS_CODE_PATTERN = r"^E0[6-9]\d{6}$"
"""An English local authority's ONS (GSS) code: E06 unitary, E07 district, E08
metropolitan borough, E09 London borough."""

AuthorityCode = Annotated[
    str, Meta(pattern=ONS_CODE_PATTERN, description="ONS (GSS) code, e.g. E08000003")
]
Language = Annotated[str, Meta(pattern=r"^[a-z]{2,3}$", description="ISO 639 code")]


def sent_fields(changes: msgspec.Struct) -> dict[str, Any]:
    """The fields a change (a PATCH body) actually carries; UNSET ones are left alone."""
    return {
        name: value
        for name in changes.__struct_fields__
        if (value := getattr(changes, name)) is not UNSET
    }
