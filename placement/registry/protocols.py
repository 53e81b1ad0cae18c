"""Protocols between authorities: who may place into whom, on what terms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from placement.enums import ProtocolKind
from placement.errors import InvalidInput
from placement.ledger import Ledger, readable_ledger
from placement.models import Protocol, ProtocolMember
from placement.paging import Page
from placement.registry.base import RegistryService, active_only


class ProtocolService(RegistryService[Protocol]):
    model = Protocol
    record_type = "protocol"

    async def list(
        self,
        *,
        authority_code: str | None,
        kind: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[Protocol]:
        stmt: Select[Any] = active_only(select(Protocol), Protocol, include_retired)
        if authority_code:
            members = select(ProtocolMember.protocol_id).where(
                ProtocolMember.authority_code == authority_code
            )
            stmt = stmt.where(Protocol.id.in_(members))
        if kind:
            stmt = stmt.where(Protocol.kind == kind)
        return await self.page(stmt.order_by(Protocol.name, Protocol.id), limit, offset)

    async def ledger(self, record_id: Any) -> Ledger:
        """The protocol's ledger now (see `placement.ledger`)."""
        protocol = await self.get(record_id)
        return await readable_ledger(self.session, self.principal, self.reads, protocol)

    async def create(self, fields: dict[str, Any]) -> Protocol:
        self.require_writer()
        members = fields.pop("members")
        await self.validate({**fields, "members": members})
        protocol = Protocol(**fields, members=[ProtocolMember(authority_code=c) for c in members])
        return await self.add(protocol, [*fields, "members"])

    async def update(self, record_id: Any, changes: dict[str, Any]) -> Protocol:
        protocol = await self.get_for_write(record_id)
        merged = {
            "kind": protocol.kind,
            "members": [m.authority_code for m in protocol.members],
            "starts_on": protocol.starts_on,
            "ends_on": protocol.ends_on,
            **changes,
        }
        await self.validate(merged, protocol)
        if "members" in changes:
            protocol.members = [ProtocolMember(authority_code=c) for c in changes.pop("members")]
            changed = ["members", *self.apply(protocol, changes)]
        else:
            changed = self.apply(protocol, changes)
        await self.session.flush()
        self.audit("update", record_id, fields=sorted(changed))
        return protocol

    async def validate(self, fields: dict[str, Any], existing: Protocol | None = None) -> None:
        members = fields.get("members")
        if members is not None:
            if len(set(members)) != len(members):
                raise InvalidInput("members", "each authority may appear only once")
            if len(members) < 2:
                raise InvalidInput("members", "a protocol needs at least two authorities")
            if fields.get("kind") == ProtocolKind.RECIPROCAL and len(members) != 2:
                raise InvalidInput("members", "a reciprocal protocol is between two authorities")
            for index, code in enumerate(members):
                await self.require_authority(code, field=f"members[{index}]")
        starts, ends = fields.get("starts_on"), fields.get("ends_on")
        if starts is not None and ends is not None and ends < starts:
            raise InvalidInput("ends_on", "must not be before starts_on")
