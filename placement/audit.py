"""The audit trail: who did what to which record, when.

An event is written in the same transaction as the change it describes, as that
transaction commits: a write and its audit event land together or not at all, and an
audited read is on record before its response leaves. Details name the
fields touched, never the secret values.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from placement.models import AuditEvent
from placement.security import Principal

_PENDING = "placement.audit.pending"


def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    record_type: str,
    record_id: object | None,
    **detail: Any,
) -> None:
    """Note an event; it is written as the session commits (`commit()`, or the end of a
    `session.begin()` block), and dropped if the session's transaction ends otherwise.

    One Core INSERT for all of a transaction's events at commit, rather than an ORM
    object each: the unit of work would fetch every new row's id, and a match request
    (which writes nothing else) would pay for that on the hot path.
    """
    session.sync_session.info.setdefault(_PENDING, []).append(
        {
            "at": datetime.now(UTC),
            "actor_key_id": principal.key_id,
            "actor_role": str(principal.role),
            "actor_label": principal.label,
            "action": action,
            "record_type": record_type,
            "record_id": None if record_id is None else str(record_id),
            "detail": detail,
        }
    )


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.execute(insert(AuditEvent), pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without committing (rolled back, closed) takes its events."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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
