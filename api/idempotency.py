"""The Idempotency-Key header of every unsafe POST: the wire side of `placement.idempotency`.

A handler takes `idempotency: NamedDependency[Idempotency]` (the controller provides it
with `provide_idempotency`) and answers through `Idempotency.answer`. The header is a
parameter of that dependency, so it is read, checked and documented in the OpenAPI of
every operation that uses it, the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from placement.idempotency import Claim, First, Replay, once, request_hash
from placement.security import Principal

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=200,
        description="a key of your choosing for this request: retrying with the same key "
        "(and the same request) returns the first answer and does nothing twice; the same "
        "key with a different request is a 409. Keys belong to your API key.",
    ),
]
REPLAYED = "Idempotent-Replayed"


class Idempotency:
    """One request's Idempotency-Key (if sent), bound to its API key and its request."""

    def __init__(self, session: AsyncSession, claim: Claim | None, status_code: int) -> None:
        self.session = session
        self.claim = claim
        self.status_code = status_code

    async def answer(
        self, act: Callable[[], Awaitable[First[T]]], replay: Replay[T]
    ) -> Response[T]:
        """`act`'s answer, or for a retry `replay`'s of the first one (marked replayed)."""
        outcome = await once(self.session, self.claim, self.status_code, act, replay)
        headers = {REPLAYED: "true"} if outcome.replayed else None
        return Response(outcome.answer, status_code=outcome.status_code, headers=headers)


async def _idempotency(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    principal: NamedDependency[Principal],
    idempotency_key: IdempotencyKey = None,
) -> Idempotency:
    claim = None
    if idempotency_key and principal.key_id is not None:
        body_hash = request_hash(request.method, request.url.path, await request.body())
        claim = Claim(principal.key_id, idempotency_key, body_hash)
    status_code: int = request.route_handler.status_code
    return Idempotency(db_session, claim, status_code)


provide_idempotency = Provide(_idempotency)
"""The dependency every idempotent handler takes, as `idempotency`."""
