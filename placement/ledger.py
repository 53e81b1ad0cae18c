"""A protocol's ledger: what each member sent and received in the current balance period,
its balance, the cap and the headroom left.

The same figures the matcher works from (`matching.loaders.cross_border_counts`: every
cross-border placement between two members that moved in within the protocol's balance
period counts, whichever agreement it was made under), and the same headroom rule
(`optimiser.protocols.room`), so the ledger an officer reads is the one that binds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from optimiser.protocols import room
from placement.audit import ReadAudit
from placement.enums import Role
from placement.errors import Forbidden
from placement.geography import ENGLISH_REGIONS
from placement.matching.loaders import cross_border_counts
from placement.models import Authority, Protocol
from placement.security import Principal


@dataclass(frozen=True, slots=True)
class LedgerLine:
    authority_code: str
    authority_name: str
    sent: int
    received: int
    cap: int | None
    headroom: int | None
    """How many more households it may send than it receives; None: no cap."""

    @property
    def balance(self) -> int:
        return self.sent - self.received


@dataclass(frozen=True, slots=True)
class Ledger:
    protocol_id: str
    name: str
    since: datetime
    until: datetime
    lines: tuple[LedgerLine, ...]


async def ledger(session: AsyncSession, protocol: Protocol, at: datetime | None = None) -> Ledger:
    """The ledger over the `balance_period_days` before `at` (now by default)."""
    until = at or datetime.now(UTC)
    since = until - timedelta(days=protocol.balance_period_days)
    members = frozenset(m.authority_code for m in protocol.members)
    sent = dict.fromkeys(members, 0)
    received = dict.fromkeys(members, 0)
    for sender, receiver, count in await cross_border_counts(session, since, members, until):
        sent[sender] += count
        received[receiver] += count
    named = select(Authority.code, Authority.name).where(Authority.code.in_(members))
    names: dict[str, str] = dict((await session.execute(named)).tuples().all())
    balances = {code: sent[code] - received[code] for code in members}
    terms = optimiser.Protocol(
        id=str(protocol.id), members=members, balance_cap=protocol.balance_cap, balances=balances
    )
    lines = tuple(
        LedgerLine(
            authority_code=code,
            authority_name=names.get(code, code),
            sent=sent[code],
            received=received[code],
            cap=protocol.balance_cap,
            headroom=room(terms, code),
        )
        for code in sorted(members)
    )
    return Ledger(str(protocol.id), protocol.name, since, until, lines)


async def readable_ledger(
    session: AsyncSession, principal: Principal, reads: ReadAudit, protocol: Protocol
) -> Ledger:
    """The ledger, for an admin, a commissioner whose area holds a member, or an officer of
    a member (who plans cross-border placements by it); audited, refusals too."""
    await reads.record(principal, "ledger", "protocol", protocol.id)
    members = {m.authority_code for m in protocol.members}
    if principal.role is Role.COMMISSIONER:
        scope = {principal.authority_code} if principal.authority_code else set()
        if principal.region:
            column = (
                Authority.region if principal.region in ENGLISH_REGIONS else Authority.group_name
            )
            scope |= set(
                await session.scalars(select(Authority.code).where(column == principal.region))
            )
        if not members & scope:
            raise Forbidden("this protocol has no member in your area")
    elif principal.is_officer:
        if principal.authority_code not in members:
            raise Forbidden("your authority is not a member of this protocol")
    elif not principal.is_admin:
        raise Forbidden("only admins, commissioners and members' officers read ledgers")
    return await ledger(session, protocol)
