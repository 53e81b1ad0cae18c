"""Idempotent POSTs: a retry with the same Idempotency-Key returns the first result.

The record is written in the same transaction as what it creates, and its primary key
(API key, idempotency key) makes two racing retries collide in the database: one
creates, the other finds the first's record.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from placement.errors import Conflict
from placement.models import IdempotencyRecord


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def previous(
    session: AsyncSession, api_key_id: uuid.UUID, key: str, body_hash: str
) -> IdempotencyRecord | None:
    """The first result for this key, or None; a key reused for another request is a 409."""
    record = await session.get(IdempotencyRecord, (api_key_id, key))
    if record is not None and record.request_hash != body_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different request; use a new key",
            field="Idempotency-Key",
        )
    return record


def remember(
    session: AsyncSession,
    api_key_id: uuid.UUID,
    key: str,
    body_hash: str,
    record_type: str,
    record_id: object,
    status_code: int,
) -> None:
    session.add(
        IdempotencyRecord(
            api_key_id=api_key_id,
            key=key,
            request_hash=body_hash,
            record_type=record_type,
            record_id=str(record_id),
            status_code=status_code,
            created_at=datetime.now(UTC),
        )
    )
