"""The per-worker registry index: what the matcher needs, in memory, kept current.

`RegistryIndex` keeps the available units as an `optimiser.UnitTable` (with each unit's
public facts for responses), the protocols in force with their reciprocal balances, and
the rehousing options. Before every use it asks the trigger-written `registry_changes`
feed (units, schemes, providers, protocols, placements, rehousing options) for anything
newer than what it has seen (one indexed lookup) and reloads only the changed rows, so a
change made through any worker or host shows in the very next match, and an idle
registry costs nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import anyio
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import optimiser
from placement.crypto import Cipher
from placement.enums import UnitStatus
from placement.matching import convert
from placement.matching.loaders import (
    FEED_BOUNDS_ONLY,
    ProtocolTerms,
    load_rehousing,
    protocols_in_force,
    unit_rows,
    with_balances,
)
from placement.matching.results import Area, Shown, describe_unit
from placement.models import Authority, RegistryChange, Scheme, Unit

# More changes than this since the last look and a full reload is cheaper than patching.
FULL_RELOAD_AFTER = 2_000
# Which parts of a snapshot each watched table can change.
UNIT_TABLES = frozenset({"units", "schemes", "providers"})
PROTOCOL_TABLES = frozenset({"protocols", "protocol_members", "placements"})
PROTOCOL_TERMS = frozenset({"protocols", "protocol_members"})
"""The tables of `PROTOCOL_TABLES` that change a protocol's terms, not only its balances."""


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What a response may say about a unit: area and type, never an address."""

    scheme_id: str
    scheme_name: str
    scheme_type: str
    authority_code: str
    postcode_district: str
    unit_label: str
    bedrooms: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of the matchable registry; shared read-only between requests."""

    seq: int
    table: optimiser.UnitTable
    """The units open to matching (available), as the optimiser takes them."""
    facts: dict[str, UnitFacts]
    """Area and type of every live unit, available or not."""
    protocols: optimiser.CheckedProtocols
    """Protocols in force with their balances, validated once for every request."""
    protocols_digest: str
    """A hash of `protocols`: which protocols are in force, and their balances, depend on
    the day as well as on the change feed, so a replay compares this too."""
    rehousing: tuple[optimiser.RehousingOption, ...]
    authority_names: dict[str, str]
    """Every authority's name by ONS code, so that officers read names, not codes."""
    shown: dict[str, Shown] = field(default_factory=dict)
    """Units as responses show them, filled as they are first shown (`show`)."""

    def authority(self, code: str) -> str:
        return self.authority_names.get(code, code)

    def show(self, unit_id: str) -> Shown:
        """A unit's area and its description, built once per snapshot's facts: every
        match shows a few dozen units, and most of them again and again."""
        shown = self.shown.get(unit_id)
        if shown is None:
            facts = self.facts[unit_id]
            area = Area(
                scheme_id=facts.scheme_id,
                scheme_name=facts.scheme_name,
                scheme_type=facts.scheme_type,
                authority_code=facts.authority_code,
                authority_name=self.authority(facts.authority_code),
                postcode_district=facts.postcode_district,
                unit_label=facts.unit_label,
                bedrooms=facts.bedrooms,
            )
            shown = self.shown[unit_id] = Shown(area, describe_unit(area))
        return shown


@dataclass
class RegistryIndex:
    """Every live unit (whatever its status) as one optimiser table, and which are available.

    Most registry changes are bookings: a unit held, occupied or freed. Those flip a unit's
    availability and cost a `UnitTable.take` of the available rows (well under a
    millisecond); only a change to what a unit *is* (new, retired, or edited, or its
    scheme or provider edited) re-encodes the whole table.
    """

    cipher: Cipher
    self_contained_types: frozenset[str] = optimiser.SELF_CONTAINED_TYPES
    """Scheme types whose units get the bedroom standard (`Settings.self_contained_types`)."""
    seq: int = -1
    units: dict[str, optimiser.Unit] = field(default_factory=dict)
    """Every unit that is not retired, in a scheme that is not retired."""
    available: set[str] = field(default_factory=set)
    facts: dict[str, UnitFacts] = field(default_factory=dict)
    snapshot: Snapshot | None = None
    _whole: optimiser.UnitTable | None = None
    _row: dict[str, int] = field(default_factory=dict)
    _open: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    """Per row of `_whole`, whether the unit is available: kept in step with `available`
    (flipped per booking), so handing out the open rows is one `flatnonzero`, not a walk
    over every available unit's id."""
    _scheme_points: dict[tuple[str, datetime], optimiser.Point] = field(default_factory=dict)
    _terms: tuple[date, tuple[ProtocolTerms, ...]] | None = None
    """The protocols in force, and the day they were read for."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def current(
        self, session: AsyncSession, bounds: tuple[int | None, int | None] | None = None
    ) -> Snapshot:
        """The snapshot, refreshed first if the registry changed since it was built.

        `bounds` are the `FEED_BOUNDS` columns when the caller read them with its own
        query (one round trip fewer on the hot path); otherwise they are read here.
        """
        latest, oldest = bounds or (await session.execute(FEED_BOUNDS_ONLY)).one()
        latest = int(latest or 0)
        if (snapshot := self.if_current(latest)) is not None:
            return snapshot
        async with self._lock:
            if self.snapshot is None or latest != self.seq:
                await self._refresh(session, latest, int(oldest or 0))
        assert self.snapshot is not None
        return self.snapshot

    def if_current(self, latest: int | None) -> Snapshot | None:
        """The snapshot if it was built at the feed's `latest` entry, else None (a
        refresh is due): no query, no lock."""
        if self.snapshot is not None and int(latest or 0) == self.seq:
            return self.snapshot
        return None

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
            touched: set[str] = set()
        else:
            reshaped, touched = await self._reload_changed_units(session, changes)
        if reshaped:
            units = sorted(self.units.values(), key=lambda u: u.id)
            # Encoding every unit is CPU work; off the event loop, other requests go on.
            self._whole = await anyio.to_thread.run_sync(optimiser.UnitTable.from_units, units)
            self._row = {unit.id: row for row, unit in enumerate(units)}
            self._open = np.zeros(len(units), dtype=np.bool_)
            self._open[[self._row[key] for key in self.available]] = True
        else:
            self._mark_open(touched)
        assert self._whole is not None
        previous = self.snapshot
        table = (
            previous.table
            if previous is not None and not full and not tables & UNIT_TABLES
            else self._whole.take(np.flatnonzero(self._open))
        )
        if previous is not None and not full and not tables & PROTOCOL_TABLES:
            protocols, protocols_digest = previous.protocols, previous.protocols_digest
        else:
            terms = await self._protocol_terms(session, full or bool(tables & PROTOCOL_TERMS))
            protocols = optimiser.CheckedProtocols.of(await with_balances(session, terms))
            protocols_digest = digest(protocols)
        rehousing = (
            previous.rehousing
            if previous is not None and not full and "rehousing_options" not in tables
            else await load_rehousing(session)
        )
        # Authorities are not in the feed (they change by migration or seeding, rarely):
        # their names are read again whenever what a unit is or a protocol's terms
        # change, which a new authority's first scheme or protocol always causes (not
        # for a booking, which only moves a unit's status).
        names = (
            previous.authority_names
            if previous is not None and not full and not reshaped and not tables & PROTOCOL_TERMS
            else dict(
                (await session.execute(select(Authority.code, Authority.name))).tuples().all()
            )
        )
        # A booking changes neither the facts nor the names: what was shown stands (the
        # facts dict is replaced, never changed in place, when a unit's facts change).
        shown = (
            previous.shown
            if previous is not None
            and previous.facts is self.facts
            and previous.authority_names is names
            else {}
        )
        self.seq = latest
        self.snapshot = Snapshot(
            seq=latest,
            table=table,
            facts=self.facts,
            protocols=protocols,
            protocols_digest=protocols_digest,
            rehousing=rehousing,
            authority_names=names,
            shown=shown,
        )

    async def _protocol_terms(
        self, session: AsyncSession, changed: bool
    ) -> tuple[ProtocolTerms, ...]:
        """The protocols in force today: read again when their terms (or the day) changed,
        not for a placement, which changes only their balances."""
        today = date.today()
        if changed or self._terms is None or self._terms[0] != today:
            self._terms = (today, await protocols_in_force(session, today))
        return self._terms[1]

    def _mark_open(self, keys: set[str]) -> None:
        """Bring `_open` in step with `available` for these units (rows of `_whole`; a
        unit that is not live has no row)."""
        for key in keys:
            row = self._row.get(key)
            if row is not None:
                self._open[row] = key in self.available

    async def _reload_changed_units(
        self, session: AsyncSession, changes: list[tuple[str, str]]
    ) -> tuple[bool, set[str]]:
        """Reload the units these changes touch: whether one changed more than its status,
        and the touched units' ids."""
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
            return False, set()
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
            return True, set(before)
        return False, set(before)

    async def _load_units(
        self, session: AsyncSession, only: set[uuid.UUID] | None
    ) -> dict[str, UnitFacts]:
        """Load units into `units` and `available`; returns the loaded units' facts."""
        stmt = unit_rows().where(Unit.retired_at.is_(None), Scheme.retired_at.is_(None))
        if only is not None:
            stmt = stmt.where(Unit.id.in_(only))
        facts: dict[str, UnitFacts] = {}
        for unit, scheme, specialisms in await session.execute(stmt):
            key = str(unit.id)
            self.units[key] = convert.unit(
                unit, scheme, specialisms, self._scheme_point(scheme), self.self_contained_types
            )
            if unit.status == UnitStatus.AVAILABLE:
                self.available.add(key)
            facts[key] = UnitFacts(
                scheme_id=str(scheme.id),
                scheme_name=scheme.name,
                scheme_type=str(scheme.scheme_type),
                authority_code=scheme.authority_code,
                postcode_district=scheme.postcode_district,
                unit_label=unit.label,
                bedrooms=unit.bedrooms,
            )
        if only is None:
            self.facts = facts
        return facts

    def live_unit(self, unit_id: str) -> optimiser.Unit | None:
        """A unit that is not retired, whatever its status, as of the last `current()`."""
        return self.units.get(unit_id)

    def _scheme_point(self, scheme: Scheme) -> optimiser.Point:
        """Decrypt a scheme's coordinates once per version of the scheme."""
        key = (str(scheme.id), scheme.updated_at)
        point = self._scheme_points.get(key)
        if point is None:
            location = self.cipher.decrypt_json(scheme.location_ciphertext)
            point = optimiser.Point(location["latitude"], location["longitude"])
            self._scheme_points[key] = point
        return point


def digest(protocols: optimiser.CheckedProtocols) -> str:
    """SHA-256 of the protocols in a canonical form (order of loading does not count)."""
    canonical = sorted(
        (p.id, sorted(p.members), p.balance_cap, sorted(p.balances.items()))
        for p in protocols.protocols
    )
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)
