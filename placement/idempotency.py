"""Idempotent POSTs: a retry with the same Idempotency-Key gets the first answer.

A client whose answer was lost cannot tell whether its request took effect; retrying it
with the same key must neither do it twice nor fail. `once` is the one way every unsafe
call does this. The record is written (and flushed) in the same transaction as what the
call did, and its primary key (API key, idempotency key) makes two racing retries
collide in the database: one does the work, the other finds the first's record.

A record names what the answer was made from (the record created or changed), so a
replay reads it again through the same service, scope and audit as any read, and no
household data or address is copied here. An answer that is no record (an allocation
run's proposals) is stored as the document itself.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from placement.errors import Conflict
from placement.models import IdempotencyRecord

T = TypeVar("T")


def request_hash(method: str, target: str, body: bytes) -> str:
    """What a key was first used for: the same key on another call or body is refused."""
    digest = hashlib.sha256()
    for part in (method.encode(), target.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """An Idempotency-Key as one API key sent it, and the request it came with."""

    api_key_id: uuid.UUID
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class First(Generic[T]):
    """A call's answer, and what a replay of it is made from."""

    answer: T
    record_type: str
    record_id: object
    document: Any = None
    """The answer as JSON, only where no record holds it (an allocation run)."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    answer: T
    status_code: int
    replayed: bool


Replay = Callable[[IdempotencyRecord], Awaitable[T]]


async def once(
    session: AsyncSession,
    claim: Claim | None,
    status_code: int,
    act: Callable[[], Awaitable[First[T]]],
    replay: Replay[T],
) -> Outcome[T]:
    """Do `act` once per claim; a retry gets `replay` of the first one's record.

    Without a claim (no key sent), `act` simply runs. When `act` loses a race (a
    Conflict, or the record's primary key taken), a retry with this key may have just
    committed: then everything this attempt did is rolled back and the answer is the
    first's; otherwise the error stands.
    """
    if claim is None:
        return Outcome((await act()).answer, status_code, replayed=False)
    if (record := await previous(session, claim)) is not None:
        return Outcome(await replay(record), record.status_code, replayed=True)
    try:
        first = await act()
        session.add(_record(claim, first, status_code))
        await session.flush()
    except (Conflict, IntegrityError):
        await session.rollback()
        if (record := await previous(session, claim)) is not None:
            return Outcome(await replay(record), record.status_code, replayed=True)
        raise
    return Outcome(first.answer, status_code, replayed=False)


async def previous(session: AsyncSession, claim: Claim) -> IdempotencyRecord | None:
    """The first result for this key, or None; a key reused for another request is a 409."""
    record = await session.get(IdempotencyRecord, (claim.api_key_id, claim.key))
    if record is not None and record.request_hash != claim.request_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different request; use a new key",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "message": "already used for a different request",
                    "source": "header",
                }
            ],
            field="Idempotency-Key",
        )
    return record


def _record(claim: Claim, first: First[Any], status_code: int) -> IdempotencyRecord:
    return IdempotencyRecord(
        api_key_id=claim.api_key_id,
        key=claim.key,
        request_hash=claim.request_hash,
        record_type=first.record_type,
        record_id=str(first.record_id),
        status_code=status_code,
        response=first.document,
        created_at=datetime.now(UTC),
    )
