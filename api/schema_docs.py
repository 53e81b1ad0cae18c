"""Record types documented by their docstrings, and fields by the glossary, in OpenAPI.

Litestar describes an enum's schema by its docstring but not a msgspec Struct's; the
docstrings say what a record is for, so they are the description a reader needs. A field
with no description of its own takes its name's entry in `api.glossary`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.spec import Reference, Schema

from api.glossary import GLOSSARY

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition


class DescribedStructs(StructSchemaPlugin):
    """Litestar's own schema for a Struct, with the Struct's docstring as its description."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        doc = field_definition.type_.__doc__
        target = (
            schema_creator.schema_registry.from_reference(schema).schema
            if isinstance(schema, Reference)
            else schema
        )
        if doc and not target.description:
            target.description = inspect.cleandoc(doc)
        for name, field in (target.properties or {}).items():
            if not field.description and name in GLOSSARY:
                field.description = GLOSSARY[name]
        return schema
