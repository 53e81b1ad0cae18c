"""Units: the rooms, flats and houses that are matched and offered.

Updates carry the version the client last saw; the UPDATE itself checks it, so two
providers' concurrent edits cannot silently overwrite each other (the loser gets 409).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import contains_eager

from placement.enums import OfferStatus, Role
from placement.errors import Conflict, InvalidInput, NotFound
from placement.models import Offer, Placement, Scheme, Unit
from placement.paging import Page
from placement.registry.base import READERS, RegistryService, active_only
from placement.sql import json_array_contains


class UnitService(RegistryService[Unit]):
    model = Unit
    record_type = "unit"
    writers = frozenset({Role.ADMIN, Role.PROVIDER})
    readers = READERS

    def base_query(self) -> Select[Any]:
        return select(Unit).join(Unit.scheme).options(contains_eager(Unit.scheme))

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        if self.principal.role is Role.PROVIDER:
            return stmt.where(Scheme.provider_id == self.principal.provider_id)
        return stmt

    def writable(self, stmt: Select[Any]) -> Select[Any]:
        return self.visible(stmt.join(Unit.scheme).options(contains_eager(Unit.scheme)))

    async def list(
        self,
        *,
        scheme_id: uuid.UUID | None,
        status: str | None,
        authority_code: str | None,
        scheme_type: str | None,
        min_bed_spaces: int | None,
        access_feature: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[Unit]:
        stmt = active_only(self.base_query(), Unit, include_retired)
        if not include_retired:  # a retired scheme's units are no longer vacancies either
            stmt = stmt.where(Scheme.retired_at.is_(None))
        for column, value in (
            (Unit.scheme_id, scheme_id),
            (Unit.status, status),
            (Scheme.authority_code, authority_code),
            (Scheme.scheme_type, scheme_type),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if min_bed_spaces is not None:
            stmt = stmt.where(Unit.bed_spaces >= min_bed_spaces)
        if access_feature:
            stmt = stmt.where(json_array_contains(Unit.access_features, access_feature))
        return await self.page(stmt.order_by(Unit.scheme_id, Unit.label, Unit.id), limit, offset)

    async def create(self, fields: dict[str, Any]) -> Unit:
        self.require_writer()
        await self._require_scheme(fields["scheme_id"])
        fields = {"available_from": date.today(), **fields}
        unit = await self.add(Unit(**fields, version=1), fields)
        return await self.get(unit.id)

    async def update_versioned(
        self, record_id: uuid.UUID, version: int, changes: dict[str, Any]
    ) -> Unit:
        """Apply `changes` only if the unit is still at `version`; bump the version."""
        self.require_writer()
        if "scheme_id" in changes:
            await self._require_scheme(changes["scheme_id"])
        if "status" in changes:
            await self._require_no_booking(record_id)
        own = self.visible(select(Scheme.id))
        result = await self.session.execute(
            update(Unit)
            .where(
                Unit.id == record_id,
                Unit.version == version,
                Unit.scheme_id.in_(own),
                Unit.retired_at.is_(None),
            )
            .values(**changes, version=Unit.version + 1, updated_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            found = (
                await self.session.execute(
                    self.visible(select(Unit.version, Unit.retired_at).join(Unit.scheme)).where(
                        Unit.id == record_id
                    )
                )
            ).first()
            if found is None:
                raise NotFound(self.record_type, record_id)
            current, retired_at = found
            if retired_at is not None:
                raise Conflict(f"unit {record_id} is retired; it cannot change")
            raise Conflict(
                f"unit {record_id} has changed since version {version}; it is now at version "
                f"{current}: fetch it again and reapply your change",
                current_version=current,
            )
        self.audit("update", record_id, fields=sorted(changes), version=version + 1)
        self.session.expire_all()
        return await self.get(record_id)

    def on_retire(self, row: Unit) -> None:
        """Retiring changes the unit, so a client holding the old version must re-read."""
        row.version += 1

    async def _require_no_booking(self, unit_id: uuid.UUID) -> None:
        """A unit under a live offer or a current placement takes its status from them.

        A concurrent offer or placement bumps the unit's version, so the versioned UPDATE
        that follows this check still fails if one slips in between.
        """
        live = await self.session.scalar(
            select(Offer.id).where(Offer.unit_id == unit_id, Offer.status == OfferStatus.LIVE)
        )
        current = await self.session.scalar(
            select(Placement.id).where(
                Placement.unit_id == unit_id, Placement.moved_out_at.is_(None)
            )
        )
        if live is not None or current is not None:
            what = "a live offer" if live is not None else "a current placement"
            raise Conflict(
                f"unit {unit_id} has {what}; its status follows the offer or placement "
                "(decline, withdraw or record the move-out instead)"
            )

    async def _require_scheme(self, scheme_id: uuid.UUID) -> Scheme:
        scheme = await self.session.scalar(
            self.visible(select(Scheme)).where(Scheme.id == scheme_id)
        )
        if scheme is None:
            raise InvalidInput("scheme_id", f"no scheme with id {scheme_id} that you manage")
        if scheme.retired_at is not None:
            raise InvalidInput("scheme_id", f"scheme {scheme_id} is retired")
        return scheme
