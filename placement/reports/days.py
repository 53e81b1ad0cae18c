"""Whole days from a day to the UTC day of a moment, counted by the database.

So a measure of waiting times can be grouped by the days waited (a national year's
placements waited some hundred distinct numbers of days) instead of loading every
placement's time. SQLAlchemy has no portable date difference: SQLite keeps a moment as
its UTC text, whose `date()` is the UTC day; PostgreSQL's moment is converted to UTC
before its day is taken. Both subtract whole days exactly, as `Period.quarter_of` and
the reconciliation count them (`(moment's UTC day - day).days`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class DaysUntil(FunctionElement[int]):
    """`moment`'s UTC day minus `day`, in days."""

    type = Integer()
    name = "days_until"
    inherit_cache = True


def days_until(day: Any, moment: Any) -> DaysUntil:
    return DaysUntil(day, moment)


@compiles(DaysUntil, "postgresql")
def _days_postgresql(element: DaysUntil, compiler: SQLCompiler, **kw: Any) -> str:
    day, moment = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(timezone('UTC', {moment}) AS DATE) - {day})"


@compiles(DaysUntil, "sqlite")
def _days_sqlite(element: DaysUntil, compiler: SQLCompiler, **kw: Any) -> str:
    day, moment = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday(date({moment})) - julianday({day}) AS INTEGER)"
