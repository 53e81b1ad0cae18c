"""Cross-border flows (placements by referring and receiving authority) and each protocol's
ledger at the end of the period."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.ledger import ledger
from placement.models import Placement, Protocol, ProtocolMember, Referral, Scheme, Unit
from placement.reports.activity import _sums, quarter_of
from placement.reports.area import Area
from placement.reports.disclosure import Relation, is_small
from placement.reports.period import Period
from placement.reports.tables import TOTAL, WITHHELD, CountTable, Figure, Key


async def cross_border(session: AsyncSession, area: Area, period: Period) -> CountTable:
    """Placements that moved in during the period from one authority into another, where
    either is in the area; with each area authority's totals out and in. Counted by the
    database per quarter and pair (a national year is thousands of placements across a
    border, in some hundreds of pairs)."""
    stmt = (
        select(
            quarter_of(period, Placement.moved_in_at),
            Referral.authority_code,
            Scheme.authority_code,
        )
        .join(Referral, Referral.id == Placement.referral_id)
        .join(Unit, Unit.id == Placement.unit_id)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(
            Placement.moved_in_at >= period.since,
            Placement.moved_in_at < period.until,
            Referral.authority_code != Scheme.authority_code,
            or_(
                Referral.authority_code.in_(area.authorities),
                Scheme.authority_code.in_(area.authorities),
            ),
        )
    )
    rows = await _sums(session, stmt, 2)
    pairs = sorted({(sender, receiver) for _, sender, receiver, _ in rows})
    senders = sorted({s for s, _ in pairs if s in area.authorities})
    receivers = sorted({r for _, r in pairs if r in area.authorities})
    keys: list[Key] = [*pairs, *((s, TOTAL) for s in senders), *((TOTAL, r) for r in receivers)]
    relations = [Relation((s, TOTAL), tuple(p for p in pairs if p[0] == s)) for s in senders]
    relations += [Relation((TOTAL, r), tuple(p for p in pairs if p[1] == r)) for r in receivers]
    quarters = [{key: 0 for key in keys} for _ in period.quarters]
    for quarter, sender, receiver, weight in rows:
        counts = quarters[quarter]
        counts[(sender, receiver)] += weight
        if sender in area.authorities:
            counts[(sender, TOTAL)] += weight
        if receiver in area.authorities:
            counts[(TOTAL, receiver)] += weight
    return CountTable(
        code="cross_border_flows",
        title="Cross-border placements, by referring and receiving authority",
        unit="households",
        breakdown=("referring_authority", "receiving_authority"),
        keys=keys,
        relations=relations,
        quarters=quarters,
        note="A total row is an area authority's placements out (by referring authority) "
        "or in (by receiving authority).",
    )


@dataclass(slots=True)
class LedgerTable:
    """Each protocol with a member in the area: its members' ledgers as the period ended.

    Sent and received count households, so 1 to 4 is `[c]`, and then the balance and
    headroom (which would give it back) are `[c]` too. Not rounded: each line is one
    authority's standing under one agreement.
    """

    lines: dict[Key, int | None]
    code: str = "protocol_ledgers"
    title: str = "Reciprocal protocols: each member's ledger at the end of the period"
    unit: str = "households"
    breakdown: tuple[str, ...] = ("protocol", "authority", "measure")
    note: str = "Sent and received in the protocol's balance period up to the period's end."

    def publish(self, rounded: bool) -> dict[Key, Figure]:
        out: dict[Key, Figure] = {}
        hidden = {
            key[:2]
            for key, value in self.lines.items()
            if key[2] in ("sent", "received") and value is not None and is_small(value)
        }
        for key, value in self.lines.items():
            if key[:2] in hidden and key[2] != "cap":
                out[key] = Figure(None, WITHHELD)
            elif value is None:
                out[key] = Figure(None, "[z]")
            else:
                out[key] = Figure(value)
        return out


async def protocol_ledgers(
    session: AsyncSession, area: Area, period: Period
) -> tuple[LedgerTable, dict[str, str]]:
    """The ledgers, and the protocols' names by id (for the page)."""
    in_area = select(ProtocolMember.protocol_id).where(
        ProtocolMember.authority_code.in_(area.authorities)
    )
    protocols = await session.scalars(
        select(Protocol)
        .where(Protocol.id.in_(in_area), Protocol.starts_on <= period.end)
        .where(or_(Protocol.ends_on.is_(None), Protocol.ends_on >= period.start))
        .order_by(Protocol.name, Protocol.id)
    )
    lines: dict[Key, int | None] = {}
    names: dict[str, str] = {}
    for protocol in protocols:
        book = await ledger(session, protocol, period.until)
        names[book.protocol_id] = book.name
        for line in book.lines:
            base = (book.protocol_id, line.authority_code)
            lines[(*base, "sent")] = line.sent
            lines[(*base, "received")] = line.received
            lines[(*base, "balance")] = line.balance
            lines[(*base, "cap")] = line.cap
            lines[(*base, "headroom")] = line.headroom
    return LedgerTable(lines), names
