"""GET /health: open to all, for load balancers and people; says if the database answers."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from api.problems import RETRY_AFTER_SECONDS
from placement.config import Settings


class Health(msgspec.Struct):
    status: str
    database: str


@get("/health", tags=["health"], summary="Service and database health", cache=False)
async def health(state: State) -> Response[Health]:
    """200 when the database answers; 503 when it does not, within the connect timeout.

    A load balancer takes a 503 as "send traffic elsewhere", so an unreachable database
    is a 503, not a cheerful 200. The check is bounded by the connect timeout, shorter
    than a request's, so that a frozen database is reported before balancers give up.
    """
    settings: Settings = state.settings
    try:
        async with asyncio.timeout(settings.database_timeouts.connect), state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is the answer, not an error
        return Response(
            Health(status="degraded", database="unreachable"),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Response(Health(status="ok", database="reachable"))
