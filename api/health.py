"""GET /health: open to all, for load balancers and people; says if the database answers."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.datastructures import State
from sqlalchemy import text


class Health(msgspec.Struct):
    """Whether the service is up and its database answers."""

    status: str
    database: str


@get("/health", tags=["health"], summary="Service and database health", cache=False)
async def health(state: State) -> Health:
    try:
        async with state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is the answer, not an error
        return Health(status="degraded", database="unreachable")
    return Health(status="ok", database="reachable")
