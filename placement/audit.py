"""The audit trail: who did what to which record, when.

An event is added to the same session (and so the same transaction) as the change it
describes: a write and its audit event land together or not at all. Details name the
fields touched, never the secret values.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.models import AuditEvent
from placement.security import Principal


def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    record_type: str,
    record_id: object | None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=datetime.now(UTC),
        actor_key_id=principal.key_id,
        actor_role=str(principal.role),
        actor_label=principal.label,
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        detail=detail,
    )
    session.add(event)
    return event


async def list_events(
    session: AsyncSession,
    *,
    record_type: str | None,
    record_id: str | None,
    actor_key_id: uuid.UUID | None,
    action: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEvent], int]:
    """Newest first, filtered; for administrators reviewing who touched what."""
    stmt = select(AuditEvent)
    for column, value in (
        (AuditEvent.record_type, record_type),
        (AuditEvent.record_id, record_id),
        (AuditEvent.actor_key_id, actor_key_id),
        (AuditEvent.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        if since.tzinfo is None:  # a time without an offset is read as UTC, like ours
            since = since.replace(tzinfo=UTC)
        stmt = stmt.where(AuditEvent.at >= since)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)
