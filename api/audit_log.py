"""/api/v1/audit: read-only, for administrators. There is no route that changes an event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN_ONLY
from api.common import Limit, Offset, Page, page_of
from placement.audit import list_events
from placement.models import AuditEvent


class AuditEventView(msgspec.Struct):
    """One event on the audit trail: who did what to which record, and when."""

    id: int
    at: datetime
    actor_key_id: uuid.UUID | None
    actor_role: str
    actor_label: str
    action: str
    record_type: str
    record_id: str | None
    detail: dict[str, Any]


def view(row: AuditEvent) -> AuditEventView:
    return msgspec.convert(row, AuditEventView, from_attributes=True)


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [ADMIN_ONLY]

    @get(summary="Audit events, newest first")
    async def list_audit_events(
        self,
        db_session: NamedDependency[AsyncSession],
        limit: Limit = 50,
        offset: Offset = 0,
        record_type: FromQuery[str | None] = None,
        record_id: FromQuery[str | None] = None,
        actor_key_id: FromQuery[uuid.UUID | None] = None,
        action: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
    ) -> Page[AuditEventView]:
        page = await list_events(
            db_session,
            record_type=record_type,
            record_id=record_id,
            actor_key_id=actor_key_id,
            action=action,
            since=since,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)
