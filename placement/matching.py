"""The bridge between the registry and the matcher.

`RegistryIndex` keeps, per worker, what the matcher needs in memory: the available units
as an `optimiser.UnitTable` (with each unit's public facts for responses), the protocols
in force with their reciprocal balances, and the rehousing options. Before every use it
asks the trigger-written `registry_changes` feed (units, schemes, providers,
protocols, placements, rehousing options) for anything newer than what it has
seen (one indexed lookup) and reloads only the changed rows, so a change made through
any worker or host shows in the very next match, and an idle registry costs nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
import numpy as np
from sqlalchemy import CompoundSelect, Select, bindparam, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

import optimiser
from placement.crypto import Cipher
from placement.enums import OfferStatus, RehousingStatus, UnitStatus
from placement.models import (
    Offer,
    Placement,
    Protocol,
    Provider,
    Referral,
    RegistryChange,
    RehousingOption,
    Scheme,
    Unit,
)

# More changes than this since the last look and a full reload is cheaper than patching.
FULL_RELOAD_AFTER = 2_000
# Which parts of a snapshot each watched table can change.
UNIT_TABLES = frozenset({"units", "schemes", "providers"})
PROTOCOL_TABLES = frozenset({"protocols", "protocol_members", "placements"})


# Two scalar subqueries, not max() and min() in one SELECT: SQLite answers each alone from
# the primary key, but scans the whole feed for the pair. Built once, as it runs on every
# match request (SQLAlchemy memoises a statement's cache key on the object).
FEED_BOUNDS = (
    select(func.max(RegistryChange.seq)).scalar_subquery(),
    select(func.min(RegistryChange.seq)).scalar_subquery(),
)
"""The newest and oldest entries of the change feed, as columns to read with other things."""
_FEED_BOUNDS = select(*FEED_BOUNDS)


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What a response may say about a unit: area and type, never an address."""

    scheme_id: str
    scheme_type: str
    authority_code: str
    postcode_district: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of the matchable registry; shared read-only between requests."""

    seq: int
    table: optimiser.UnitTable
    """The units open to matching (available), as the optimiser takes them."""
    facts: dict[str, UnitFacts]
    """Area and type of every live unit, available or not."""
    protocols: tuple[optimiser.Protocol, ...]
    rehousing: tuple[optimiser.RehousingOption, ...]


@dataclass
class RegistryIndex:
    """Every live unit (whatever its status) as one optimiser table, and which are available.

    Most registry changes are bookings: a unit held, occupied or freed. Those flip a unit's
    availability and cost a `UnitTable.take` of the available rows (well under a
    millisecond); only a change to what a unit *is* (new, retired, or edited, or its
    scheme or provider edited) re-encodes the whole table.
    """

    cipher: Cipher
    seq: int = -1
    units: dict[str, optimiser.Unit] = field(default_factory=dict)
    """Every unit that is not retired, in a scheme that is not retired."""
    available: set[str] = field(default_factory=set)
    facts: dict[str, UnitFacts] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    _whole: optimiser.UnitTable | None = None
    _row: dict[str, int] = field(default_factory=dict)
    _scheme_points: dict[tuple[str, datetime], optimiser.Point] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def current(
        self, session: AsyncSession, bounds: tuple[int | None, int | None] | None = None
    ) -> Snapshot:
        """The snapshot, refreshed first if the registry changed since it was built.

        `bounds` are the `FEED_BOUNDS` columns when the caller read them with its own
        query (one round trip fewer on the hot path); otherwise they are read here.
        """
        latest, oldest = bounds or (await session.execute(_FEED_BOUNDS)).one()
        latest = int(latest or 0)
        if self.snapshot is not None and latest == self.seq:
            return self.snapshot
        async with self._lock:
            if self.snapshot is None or latest != self.seq:
                await self._refresh(session, latest, int(oldest or 0))
        assert self.snapshot is not None
        return self.snapshot

    async def _refresh(self, session: AsyncSession, latest: int, oldest: int) -> None:
        changes: list[tuple[str, str]] = []
        if self.snapshot is not None and oldest <= self.seq + 1:
            changes = [
                (table, row)
                for table, row in await session.execute(
                    select(RegistryChange.table_name, RegistryChange.row_id)
                    .where(RegistryChange.seq > self.seq, RegistryChange.seq <= latest)
                    .limit(FULL_RELOAD_AFTER + 1)
                )
            ]
        full = self.snapshot is None or len(changes) > FULL_RELOAD_AFTER or oldest > self.seq + 1
        tables = {table for table, _ in changes}
        if full:
            self.units, self.available, self.facts, self._scheme_points = {}, set(), {}, {}
            await self._load_units(session, None)
            reshaped = True
        else:
            reshaped = await self._reload_changed_units(session, changes)
        if reshaped:
            units = sorted(self.units.values(), key=lambda u: u.id)
            # Encoding every unit is CPU work; off the event loop, other requests go on.
            self._whole = await anyio.to_thread.run_sync(optimiser.UnitTable.from_units, units)
            self._row = {unit.id: row for row, unit in enumerate(units)}
        assert self._whole is not None
        previous = self.snapshot
        table = (
            previous.table
            if previous is not None and not full and not tables & UNIT_TABLES
            else self._whole.take(np.sort(np.fromiter((self._row[u] for u in self.available), int)))
        )
        protocols = (
            previous.protocols
            if previous is not None and not full and not tables & PROTOCOL_TABLES
            else await load_protocols(session)
        )
        rehousing = (
            previous.rehousing
            if previous is not None and not full and "rehousing_options" not in tables
            else await load_rehousing(session)
        )
        self.seq = latest
        self.snapshot = Snapshot(
            seq=latest,
            table=table,
            facts=self.facts,
            protocols=protocols,
            rehousing=rehousing,
        )

    async def _reload_changed_units(
        self, session: AsyncSession, changes: list[tuple[str, str]]
    ) -> bool:
        """Reload the units these changes touch; True when one changed more than its status."""
        unit_ids = {_uuid(row) for table, row in changes if table == "units"}
        scheme_ids = {_uuid(row) for table, row in changes if table == "schemes"}
        provider_ids = {_uuid(row) for table, row in changes if table == "providers"}
        if provider_ids:
            scheme_ids |= set(
                await session.scalars(select(Scheme.id).where(Scheme.provider_id.in_(provider_ids)))
            )
        if scheme_ids:
            unit_ids |= set(
                await session.scalars(select(Unit.id).where(Unit.scheme_id.in_(scheme_ids)))
            )
        if not unit_ids:
            return False
        before = {str(i): self.units.get(str(i)) for i in unit_ids}
        for key in before:
            self.units.pop(key, None)
            self.available.discard(key)
        facts = await self._load_units(session, unit_ids)
        if any(
            self.units.get(key) != unit or facts.get(key) != self.facts.get(key)
            for key, unit in before.items()
        ):
            # Facts are shared with snapshots in use: replace the dict, never edit it.
            self.facts = {
                key: fact for key, fact in self.facts.items() if key in self.units
            } | facts
            return True
        return False

    async def _load_units(
        self, session: AsyncSession, only: set[uuid.UUID] | None
    ) -> dict[str, UnitFacts]:
        """Load units into `units` and `available`; returns the loaded units' facts."""
        stmt = _unit_rows().where(Unit.retired_at.is_(None), Scheme.retired_at.is_(None))
        if only is not None:
            stmt = stmt.where(Unit.id.in_(only))
        facts: dict[str, UnitFacts] = {}
        for unit, scheme, specialisms in await session.execute(stmt):
            key = str(unit.id)
            self.units[key] = self._optimiser_unit(unit, scheme, specialisms)
            if unit.status == UnitStatus.AVAILABLE:
                self.available.add(key)
            facts[key] = UnitFacts(
                scheme_id=str(scheme.id),
                scheme_type=str(scheme.scheme_type),
                authority_code=scheme.authority_code,
                postcode_district=scheme.postcode_district,
            )
        if only is None:
            self.facts = facts
        return facts

    async def unit(self, session: AsyncSession, unit_id: uuid.UUID) -> optimiser.Unit | None:
        """Any one unit as the optimiser sees it, whatever its status (for offer checks)."""
        row = (await session.execute(_unit_rows().where(Unit.id == unit_id))).first()
        return None if row is None else self._optimiser_unit(*row)

    def _optimiser_unit(self, unit: Unit, scheme: Scheme, specialisms: list[str]) -> optimiser.Unit:
        return optimiser.Unit(
            id=str(unit.id),
            scheme_id=str(scheme.id),
            provider_id=str(scheme.provider_id),
            authority_code=scheme.authority_code,
            location=self._scheme_point(scheme),
            bedrooms=unit.bedrooms,
            bed_spaces=unit.bed_spaces,
            available_from=unit.available_from,
            scheme_type=str(scheme.scheme_type),
            cots=unit.cots,
            access_features=frozenset(unit.access_features),
            gender_policy=str(scheme.gender_policy),
            max_boy_age=scheme.max_boy_age,
            max_risk_level=str(scheme.max_risk_level),
            accepts_nrpf=scheme.accepts_nrpf,
            accepts_pets=scheme.accepts_pets,
            languages=frozenset(scheme.languages),
            support=frozenset(scheme.support),
            specialisms=frozenset(specialisms),
            weekly_cost=float(scheme.weekly_cost),
        )

    def _scheme_point(self, scheme: Scheme) -> optimiser.Point:
        """Decrypt a scheme's coordinates once per version of the scheme."""
        key = (str(scheme.id), scheme.updated_at)
        point = self._scheme_points.get(key)
        if point is None:
            location = self.cipher.decrypt_json(scheme.location_ciphertext)
            point = optimiser.Point(location["latitude"], location["longitude"])
            self._scheme_points[key] = point
        return point


def _unit_rows() -> Select[tuple[Unit, Scheme, list[str]]]:
    return (
        select(Unit, Scheme, Provider.specialisms)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .join(Provider, Provider.id == Scheme.provider_id)
    )


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


async def load_protocols(
    session: AsyncSession, today: date | None = None
) -> tuple[optimiser.Protocol, ...]:
    """Protocols in force today, with each member's net sent-minus-received in its period."""
    today = today or date.today()
    protocols = list(
        await session.scalars(
            select(Protocol).where(
                Protocol.retired_at.is_(None),
                Protocol.starts_on <= today,
                (Protocol.ends_on.is_(None)) | (Protocol.ends_on >= today),
            )
        )
    )
    if not protocols:
        return ()
    longest = max(p.balance_period_days for p in protocols)
    since = datetime.now(UTC) - timedelta(days=longest)
    flows = (
        await session.execute(
            select(Referral.authority_code, Scheme.authority_code, Placement.moved_in_at)
            .join(Referral, Referral.id == Placement.referral_id)
            .join(Unit, Unit.id == Placement.unit_id)
            .join(Scheme, Scheme.id == Unit.scheme_id)
            .where(Placement.moved_in_at >= since, Referral.authority_code != Scheme.authority_code)
        )
    ).all()
    result = []
    for protocol in protocols:
        members = frozenset(m.authority_code for m in protocol.members)
        start = datetime.now(UTC) - timedelta(days=protocol.balance_period_days)
        balances: dict[str, int] = defaultdict(int)
        for sender, receiver, moved_in in flows:
            if sender in members and receiver in members and moved_in >= start:
                balances[sender] += 1
                balances[receiver] -= 1
        result.append(
            optimiser.Protocol(
                id=str(protocol.id),
                members=members,
                balance_cap=protocol.balance_cap,
                balances=dict(balances),
            )
        )
    return tuple(sorted(result, key=lambda p: p.id))


async def load_rehousing(session: AsyncSession) -> tuple[optimiser.RehousingOption, ...]:
    rows = await session.scalars(
        select(RehousingOption).where(
            RehousingOption.retired_at.is_(None),
            RehousingOption.status == RehousingStatus.AVAILABLE,
        )
    )
    return tuple(
        optimiser.RehousingOption(
            id=str(row.id),
            authority_code=row.authority_code,
            location=optimiser.Point(row.latitude, row.longitude),
            available_from=row.available_from,
            max_risk_level=str(row.max_risk_level),
            accepts_conditions=frozenset(row.accepts_conditions),
            weekly_cost=float(row.weekly_cost),
        )
        for row in sorted(rows, key=lambda r: str(r.id))
    )


def household(
    referral: Referral, document: dict[str, Any], today: date | None = None
) -> optimiser.Household:
    """The optimiser's view of a referral's household document."""
    today = today or date.today()
    members = document["members"]
    needed_by = document.get("needed_by")
    return optimiser.Household(
        id=str(referral.id),
        authority_code=referral.authority_code,
        members=tuple(
            optimiser.Member(
                age=m["age"], gender=m["gender"], access_needs=frozenset(m.get("access_needs", []))
            )
            for m in members
        ),
        needed_by=date.fromisoformat(needed_by) if needed_by else today,
        risk_level=str(referral.risk_level),
        nrpf=bool(document.get("nrpf")),
        pets=bool(document.get("pets")),
        space_need=document.get("space_need"),
        languages=tuple(document.get("languages", [])),
        language_essential=bool(document.get("language_essential")),
        support_needs=frozenset(document.get("support_needs", [])),
        support_essential=bool(document.get("support_essential")),
        perpetrator_zones=tuple(
            optimiser.Zone(optimiser.Point(z["latitude"], z["longitude"]), z["radius_km"])
            for z in document.get("perpetrator_locations", [])
        ),
        avoid_authorities=frozenset(document.get("avoid_authorities", [])),
        stay_near=tuple(_point(p) for p in document.get("stay_near", [])),
        schools=tuple(_point(m["school"]) for m in members if m.get("school")),
        keep_school=bool(document.get("keep_school")),
        home=_point(document["home"]) if document.get("home") else None,
        perpetrator_ref=referral.perpetrator_ref,
        perpetrator_move_possible=bool(document.get("perpetrator_move_possible")),
        perpetrator_conditions=frozenset(document.get("perpetrator_conditions", [])),
        days_waiting=max(0, (today - referral.referred_on).days),
        preferred_specialisms=frozenset(document.get("preferred_specialisms", [])),
    )


def _point(place: dict[str, Any]) -> optimiser.Point:
    return optimiser.Point(place["latitude"], place["longitude"])


def _linked_schemes_statement() -> CompoundSelect:
    linked = select(Referral.id).where(
        Referral.perpetrator_ref == bindparam("perpetrator_ref"),
        Referral.authority_code == bindparam("authority_code"),
        Referral.id != bindparam("referral_id"),
    )
    placed = (
        select(Unit.scheme_id)
        .join(Placement, Placement.unit_id == Unit.id)
        .where(Placement.referral_id.in_(linked), Placement.moved_out_at.is_(None))
    )
    offered = (
        select(Unit.scheme_id)
        .join(Offer, Offer.unit_id == Unit.id)
        .where(Offer.referral_id.in_(linked), Offer.status == OfferStatus.LIVE)
    )
    return union(placed, offered)


_LINKED_SCHEMES = _linked_schemes_statement()
_OTHER = aliased(Referral)
HAS_LINKED = (
    select(_OTHER.id)
    .where(
        _OTHER.perpetrator_ref == Referral.perpetrator_ref,
        _OTHER.authority_code == Referral.authority_code,
        _OTHER.id != Referral.id,
    )
    .exists()
)
"""Whether another referral names the same perpetrator: a column to read with a referral,
so that `linked_schemes` is asked only when it can find something (rarely)."""


async def linked_schemes(session: AsyncSession, referral: Referral) -> frozenset[str]:
    """Schemes already holding (or offered to) a household linked to the same perpetrator.

    One round trip, with a statement built once: this runs on every match request of a
    linked household.
    """
    if not referral.perpetrator_ref:
        return frozenset()
    rows = await session.scalars(
        _LINKED_SCHEMES,
        {
            "perpetrator_ref": referral.perpetrator_ref,
            "authority_code": referral.authority_code,
            "referral_id": referral.id,
        },
    )
    return frozenset(str(row) for row in rows)
