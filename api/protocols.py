"""/api/v1/protocols: cross-border agreements between authorities."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from api.auth import ADMIN_ONLY, EVERYONE, allow
from api.common import IncludeRetired, Limit, Offset, Page, page_of, provide
from api.examples import PROTOCOL, example_body
from placement.enums import OFFICER_ROLES, Funding, ProtocolKind, Role
from placement.fields import AuthorityCode, sent_fields
from placement.models import Protocol
from placement.registry.protocols import ProtocolService

Name = Annotated[str, Meta(min_length=1, max_length=200)]
Members = Annotated[list[AuthorityCode], Meta(min_length=2, max_length=400)]
Days = Annotated[int, Meta(ge=0, le=3650)]
Cap = Annotated[
    int,
    Meta(
        ge=0,
        le=100_000,
        description="how many more households a member may send than it "
        "receives in a period; null: no cap",
    ),
]
Period = Annotated[int, Meta(ge=1, le=3650)]
LEDGER_READERS = allow(Role.ADMIN, Role.COMMISSIONER, *OFFICER_ROLES)


class ProtocolCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A cross-border agreement: which authorities, who pays, from when, and how far
    members may be out of balance."""

    name: Name
    kind: ProtocolKind
    funding: Funding
    members: Members
    starts_on: date
    ends_on: date | None = None
    notice_days: Days = 0
    balance_cap: Cap | None = None
    balance_period_days: Period = 365


class ProtocolUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change a protocol: send only the fields that change (its kind never does)."""

    name: Name | UnsetType = UNSET
    funding: Funding | UnsetType = UNSET
    members: Members | UnsetType = UNSET
    starts_on: date | UnsetType = UNSET
    ends_on: date | UnsetType | None = UNSET
    notice_days: Days | UnsetType = UNSET
    balance_cap: Cap | UnsetType | None = UNSET
    balance_period_days: Period | UnsetType = UNSET


class ProtocolView(msgspec.Struct):
    """A cross-border agreement between authorities."""

    id: uuid.UUID
    name: str
    kind: ProtocolKind
    funding: Funding
    members: list[str]
    starts_on: date
    ends_on: date | None
    notice_days: int
    balance_cap: int | None
    balance_period_days: int
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class LedgerLineView(msgspec.Struct):
    """One member's standing under the protocol."""

    authority_code: str
    authority_name: Annotated[str, Meta(description="the member authority, in words")]
    sent: Annotated[int, Meta(description="households it placed into other members")]
    received: Annotated[int, Meta(description="households other members placed into it")]
    balance: Annotated[int, Meta(description="sent minus received")]
    cap: Annotated[int | None, Meta(description="the protocol's balance cap; null: no cap")]
    headroom: Annotated[
        int | None,
        Meta(description="how many more it may send than it receives; null: no cap"),
    ]


class LedgerView(msgspec.Struct):
    """What each member sent and received in the protocol's current balance period."""

    protocol_id: Annotated[uuid.UUID, Meta(description="the protocol")]
    name: str
    since: Annotated[datetime, Meta(description="the start of the balance period (UTC)")]
    until: Annotated[datetime, Meta(description="the end of the balance period: now (UTC)")]
    lines: Annotated[list[LedgerLineView], Meta(description="one line per member")]


def view(row: Protocol) -> ProtocolView:
    return ProtocolView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        funding=row.funding,
        members=sorted(m.authority_code for m in row.members),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        notice_days=row.notice_days,
        balance_cap=row.balance_cap,
        balance_period_days=row.balance_period_days,
        created_at=row.created_at,
        updated_at=row.updated_at,
        retired_at=row.retired_at,
    )


class ProtocolController(Controller):
    path = "/protocols"
    tags = ["protocols"]
    dependencies = {"service": provide(ProtocolService)}

    @get(guards=[EVERYONE], summary="List protocols")
    async def list_protocols(
        self,
        service: NamedDependency[ProtocolService],
        limit: Limit = 50,
        offset: Offset = 0,
        authority_code: FromQuery[str | None] = None,
        kind: FromQuery[ProtocolKind | None] = None,
        include_retired: IncludeRetired = False,
    ) -> Page[ProtocolView]:
        page = await service.list(
            authority_code=authority_code,
            kind=kind,
            include_retired=include_retired,
            limit=limit,
            offset=offset,
        )
        return page_of(page, view)

    @get("/{protocol_id:str}", guards=[EVERYONE], summary="Get a protocol")
    async def get_protocol(
        self, service: NamedDependency[ProtocolService], protocol_id: FromPath[uuid.UUID]
    ) -> ProtocolView:
        return view(await service.get(protocol_id))

    @get(
        "/{protocol_id:str}/ledger",
        guards=[LEDGER_READERS],
        summary="A protocol's ledger: sent, received, balance, cap and headroom",
    )
    async def get_ledger(
        self, service: NamedDependency[ProtocolService], protocol_id: FromPath[uuid.UUID]
    ) -> LedgerView:
        book = await service.ledger(protocol_id)
        return LedgerView(
            protocol_id=uuid.UUID(book.protocol_id),
            name=book.name,
            since=book.since,
            until=book.until,
            lines=[
                LedgerLineView(
                    authority_code=line.authority_code,
                    authority_name=line.authority_name,
                    sent=line.sent,
                    received=line.received,
                    balance=line.balance,
                    cap=line.cap,
                    headroom=line.headroom,
                )
                for line in book.lines
            ],
        )

    @post(guards=[ADMIN_ONLY], summary="Register a protocol")
    async def create_protocol(
        self,
        service: NamedDependency[ProtocolService],
        data: Annotated[ProtocolCreate, example_body("a group protocol", PROTOCOL)],
    ) -> ProtocolView:
        return view(await service.create(msgspec.structs.asdict(data)))

    @patch("/{protocol_id:str}", guards=[ADMIN_ONLY], summary="Change a protocol")
    async def update_protocol(
        self,
        service: NamedDependency[ProtocolService],
        protocol_id: FromPath[uuid.UUID],
        data: JSONBody[ProtocolUpdate],
    ) -> ProtocolView:
        return view(await service.update(protocol_id, sent_fields(data)))

    @delete("/{protocol_id:str}", guards=[ADMIN_ONLY], status_code=200, summary="Retire a protocol")
    async def retire_protocol(
        self, service: NamedDependency[ProtocolService], protocol_id: FromPath[uuid.UUID]
    ) -> ProtocolView:
        return view(await service.retire(protocol_id))
