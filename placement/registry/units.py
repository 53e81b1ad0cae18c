"""Units: the rooms, flats and houses that are matched and offered.

Updates carry the version the client last saw; the UPDATE itself checks it, so two
providers' concurrent edits cannot silently overwrite each other (the loser gets 409).

A provider sets a unit `available` or `out_of_service` (with a reason, and when it is
expected back); `held` and `occupied` come only from offers and placements, so a hold
always expires and every occupied unit has a placement the reports can count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import contains_eager

from placement.enums import OfferStatus, OutOfServiceReason, Role, UnitStatus
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
        fields |= service_state(UnitStatus.AVAILABLE, None, fields)
        unit = await self.add(Unit(**fields, version=1), fields)
        return await self.get(unit.id)

    async def update_versioned(
        self, record_id: uuid.UUID, version: int, changes: dict[str, Any]
    ) -> Unit:
        """Apply `changes` only if the unit is still at `version`; bump the version."""
        self.require_writer()
        if "scheme_id" in changes:
            await self._require_scheme(changes["scheme_id"])
        checked_at = version
        if SERVICE_FIELDS & changes.keys():
            current = await self.session.scalar(
                self.visible(select(Unit).join(Unit.scheme)).where(Unit.id == record_id)
            )
            if current is None:
                raise NotFound(self.record_type, record_id)
            reason = current.out_of_service_reason
            changes = changes | service_state(current.status, reason, changes)
            checked_at = current.version
        if "status" in changes:
            await self._require_no_booking(record_id)
        own = self.visible(select(Scheme.id))
        result = await self.session.execute(
            update(Unit)
            .where(
                Unit.id == record_id,
                Unit.version == version,
                # The state checked above is the state changed (or the client is stale).
                Unit.version == checked_at,
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

    async def retire(self, record_id: Any) -> Unit:
        """Retire a unit nobody is offered or living in: a household's placement must end
        (or the offer be decided) first, or the household would vanish from the reports."""
        await self.get_for_write(record_id)
        await self._require_no_booking(record_id, "retired")
        return await super().retire(record_id)

    def on_retire(self, row: Unit) -> None:
        """Retiring changes the unit, so a client holding the old version must re-read."""
        row.version += 1

    async def _require_no_booking(self, unit_id: uuid.UUID, change: str = "") -> None:
        """A unit under a live offer or a current placement takes its status from them,
        and cannot be retired under them.

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
            consequence = (
                f"it cannot be {change}" if change else "its status follows the offer or placement"
            )
            raise Conflict(
                f"unit {unit_id} has {what}; {consequence} "
                "(decline, withdraw or record the move-out first)"
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


SERVICE_FIELDS = frozenset({"status", "out_of_service_reason", "expected_back_on"})
"""The fields that say whether a unit is in service, checked together."""
PROVIDER_STATUSES = frozenset({UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE})
"""What a provider may set; offers hold units and placements occupy them."""


def service_state(
    status: UnitStatus, reason: OutOfServiceReason | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """The unit's status, reason and expected return date after `changes`, checked.

    `status` and `reason` are the unit's as it is (a new unit: available, none). Out of
    service needs a reason from the fixed list, and an expected return date is never in
    the past; a unit back in service has neither.
    """
    new_status = changes.get("status", status)
    if "status" in changes and new_status not in PROVIDER_STATUSES:
        raise InvalidInput(
            "status",
            f"a unit becomes {new_status} only through an offer or a placement: set it "
            "available or out_of_service (record a household you placed yourself as a "
            "direct placement)",
        )
    expected = changes.get("expected_back_on")
    if new_status != UnitStatus.OUT_OF_SERVICE:
        for name in ("out_of_service_reason", "expected_back_on"):
            if changes.get(name) is not None:
                raise InvalidInput(name, "only a unit that is out of service has this")
        return {"out_of_service_reason": None, "expected_back_on": None}
    new_reason = changes.get("out_of_service_reason", reason if status == new_status else None)
    if new_reason is None:
        raise InvalidInput(
            "out_of_service_reason",
            "a unit out of service needs a reason: one of "
            + ", ".join(r.value for r in OutOfServiceReason),
        )
    if expected is not None and expected < date.today():
        raise InvalidInput("expected_back_on", "must not be in the past")
    state: dict[str, Any] = {"out_of_service_reason": new_reason}
    if "expected_back_on" in changes or status != new_status:
        state["expected_back_on"] = expected
    return state
