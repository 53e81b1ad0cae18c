"""Pages of a list: the rows asked for, and how many match in all.

Every list in the service pages the same way (a count of the filtered rows, then one
page of them in a stable order), so it is written once here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    items: Sequence[M]
    total: int
    """Every row matching the filters, not only this page's."""
    limit: int
    offset: int


async def paginate(session: AsyncSession, stmt: Select[Any], limit: int, offset: int) -> Page[Any]:
    """One page of `stmt` (ordered by the caller, for a stable order) and its total.

    A statement of one entity or column pages its values; of several, its rows.
    """
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.execute(stmt.limit(limit).offset(offset))).all()
    items = [row[0] if len(row) == 1 else row for row in rows]
    return Page(items=items, total=int(total or 0), limit=limit, offset=offset)
