"""GET /health: open to all, for load balancers and people; says if the database answers."""

from __future__ import annotations

import logging

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from api.problems import RETRY_AFTER_SECONDS

log = logging.getLogger(__name__)


class Health(msgspec.Struct):
    """Whether the service is up and its database answers."""

    status: str
    database: str


@get("/health", tags=["health"], summary="Service and database health", cache=False)
async def health(state: State) -> Response[Health]:
    """200 when the database answers; 503 when it does not.

    A load balancer takes a 503 as "send traffic elsewhere", so an unreachable database
    is a 503, not a cheerful 200. The check waits no longer than a request would (the
    engine's connect, pool and statement timeouts): a tighter bound of its own called a
    busy but working database unreachable.
    """
    try:
        async with state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is the answer
        log.warning("health: database unreachable: %s: %s", type(error).__name__, error)
        return Response(
            Health(status="degraded", database="unreachable"),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Response(Health(status="ok", database="reachable"))
