"""The audit trail: who did what to which record, when.

`record` writes an event in the same transaction as the change it describes, as that
transaction commits: a write and its audit event land together or not at all. Reads of
household documents, the hot path, go through `ReadAudit` instead: batched, outside the
reader's transaction, and committed before the data is used, so that a read stays on
record whatever becomes of the request that made it. Details name the fields touched,
never the secret values. Both append through `placement.audit_chain`, which seals each
event to the one before it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from placement import audit_chain
from placement.config import DatabaseTimeouts
from placement.db import sqlite_file
from placement.errors import AuditUnavailable
from placement.faults import retry_once_if_dropped
from placement.loop_writes import LoopWriter
from placement.models import AuditEvent, DecisionSnapshot
from placement.paging import Page, paginate
from placement.security import Principal

log = logging.getLogger(__name__)
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

    All of a transaction's events are appended at commit, in one go: the chain head is
    locked from then until the commit, not for the whole transaction.
    """
    session.sync_session.info.setdefault(_PENDING, []).append(
        _row(principal, action, record_type, record_id, detail)
    )


def record_anonymous(
    session: AsyncSession,
    label: str,
    action: str,
    record_type: str,
    record_id: object | None,
    **detail: Any,
) -> None:
    """As `record`, for someone not (yet) known: a sign-in with an email no account has."""
    session.sync_session.info.setdefault(_PENDING, []).append(
        _event(None, "anonymous", label, action, record_type, record_id, detail)
    )


def pending(session: AsyncSession) -> bool:
    """Whether events noted with `record` wait for the session to commit."""
    return bool(session.sync_session.info.get(_PENDING))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        audit_chain.append(session.connection(), pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ends without committing (rolled back, closed) takes its events."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


class ReadAudit:
    """Audit events of reads, written in batches outside the reader's transaction.

    A read audited in its own request's transaction made every match request a write
    transaction; under load SQLite's single write lock then queued match requests behind
    each other (measured: a median 19 ms per match waiting for the lock). Here one task
    per worker writes whatever reads have queued, one transaction per batch, and each
    reader waits until its event is committed before it goes on: the read is on record
    before the data is used, and stays on record if the request later fails. Matches'
    decision snapshots ride the same batches (`snapshot`), unwaited for. On a SQLite file
    a batch commits on the event loop's thread (`placement.loop_writes`); elsewhere
    through `engine`, whose pool should hold one connection: batches go one at a time.
    """

    def __init__(
        self, engine: AsyncEngine, busy_seconds: float = DatabaseTimeouts.sqlite_busy
    ) -> None:
        self._engine = engine
        self._busy_seconds = busy_seconds
        self._queue: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._snapshots: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._running = False

    async def record(
        self,
        principal: Principal,
        action: str,
        record_type: str,
        record_id: object | None,
        **detail: Any,
    ) -> None:
        """Return once the event is committed; raise if it could not be."""
        if not self._running:
            raise AuditUnavailable
        done = asyncio.get_running_loop().create_future()
        self._queue.append((_row(principal, action, record_type, record_id, detail), done))
        self._wake.set()
        await done

    def snapshot(self, row: dict[str, Any]) -> None:
        """Queue a decision snapshot (a `DecisionSnapshot` row) for the next batch.

        The match path writes its snapshot this way: no statement of its own and no
        wait, in the same transaction as the reads audited at the time. A snapshot is not
        a read's record, so nobody waits for it; one queued when the worker stops, or in
        a batch that fails, is lost (and logged with the batch).
        """
        if self._running:
            self._snapshots.append(row)
            self._wake.set()

    async def run(self) -> None:
        """Write batches until cancelled (the app's lifespan runs this)."""
        database = sqlite_file(str(self._engine.url))
        writer = None if database is None else LoopWriter(database, self._busy_seconds)
        self._running = True
        batch: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._queue = self._queue, []
                snapshots, self._snapshots = self._snapshots, []
                if batch or snapshots:
                    await self._write(writer, batch, snapshots)
        finally:  # stopped: nobody waits for a write that will not come
            self._running = False
            for _, done in [*batch, *self._queue]:
                done.cancel()
            if writer is not None:
                writer.close()

    async def _write(
        self,
        writer: LoopWriter | None,
        batch: list[tuple[dict[str, Any], asyncio.Future[None]]],
        snapshots: list[dict[str, Any]],
    ) -> None:
        rows = [row for row, _ in batch]

        def insert_batch(connection: Connection) -> None:
            audit_chain.append(connection, rows)
            if snapshots:  # Core, on the connection: the ORM's bulk insert costs more
                connection.execute(_INSERT_SNAPSHOTS, snapshots)

        async def through_engine() -> None:
            async with self._engine.begin() as connection:
                await connection.run_sync(insert_batch)

        try:  # readers are waiting: a dropped connection is worth one more try at once
            if writer is not None:
                await writer.run(insert_batch)
            else:
                await retry_once_if_dropped(through_engine)
        except Exception:  # every reader in the batch fails: no unaudited read
            log.exception(
                "writing %d read audit events and %d snapshots failed", len(batch), len(snapshots)
            )
            failed = True
        else:
            failed = False
        for _, done in batch:
            if done.done():
                continue
            if failed:
                done.set_exception(AuditUnavailable())
            else:
                done.set_result(None)


_INSERT_SNAPSHOTS = insert(DecisionSnapshot)


def _row(
    principal: Principal,
    action: str,
    record_type: str,
    record_id: object | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    if principal.user_id is not None:  # a person signed in to the pages: name the account
        detail = {**detail, "user_id": str(principal.user_id)}
    return _event(
        principal.key_id,
        str(principal.role),
        principal.label,
        action,
        record_type,
        record_id,
        detail,
    )


def _event(
    key_id: uuid.UUID | None,
    role: str,
    label: str,
    action: str,
    record_type: str,
    record_id: object | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC),
        "actor_key_id": key_id,
        "actor_role": role,
        "actor_label": label,
        "action": action,
        "record_type": record_type,
        "record_id": None if record_id is None else str(record_id),
        "detail": detail,
    }


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
) -> Page[AuditEvent]:
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
    return await paginate(session, stmt.order_by(AuditEvent.id.desc()), limit, offset)
