"""Perpetrator-rehousing options: accommodation that lets a victim stay at home.

Their coordinates are stored in clear (the matcher needs them and they do not reveal a
victim); the street address is encrypted and shown only to the option's own provider.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from placement import geography
from placement.enums import PerpetratorMoveStatus, Role
from placement.errors import Conflict, Forbidden
from placement.models import PerpetratorMove, RehousingOption
from placement.paging import Page
from placement.registry.base import ProviderOwnedService, active_only
from placement.registry.locations import check_location, split_location


class RehousingService(ProviderOwnedService[RehousingOption]):
    model = RehousingOption
    record_type = "rehousing_option"

    async def list(
        self,
        *,
        authority_code: str | None,
        status: str | None,
        include_retired: bool,
        limit: int,
        offset: int,
    ) -> Page[RehousingOption]:
        stmt: Select[Any] = active_only(select(RehousingOption), RehousingOption, include_retired)
        if authority_code:
            stmt = stmt.where(RehousingOption.authority_code == authority_code)
        if status:
            stmt = stmt.where(RehousingOption.status == status)
        order = (RehousingOption.authority_code, RehousingOption.id)
        return await self.page(stmt.order_by(*order), limit, offset)

    async def create(self, fields: dict[str, Any]) -> RehousingOption:
        self.require_writer()
        if self.principal.role is Role.PROVIDER:
            if fields.get("provider_id") not in (None, self.principal.provider_id):
                raise Forbidden("a provider can register options only for itself")
            fields["provider_id"] = self.principal.provider_id
        await self.validate(fields)
        location, rest = split_location(fields)
        location = check_location(location, rest["authority_code"])
        available_from = rest.pop("available_from", None) or date.today()
        option = RehousingOption(
            **rest,
            latitude=location["latitude"],
            longitude=location["longitude"],
            postcode_district=geography.outcode_of(location["postcode"]),
            address_ciphertext=self._seal(location),
            available_from=available_from,
        )
        return await self.add(option, fields)

    async def update(self, record_id: Any, changes: dict[str, Any]) -> RehousingOption:
        option = await self.get_for_write(record_id)
        if "status" in changes and changes["status"] != option.status:
            await self._require_no_live_move(option, "change its status")
        await self.validate(changes, option)
        location, rest = split_location(changes)
        if location or "authority_code" in rest:
            merged = check_location(
                {
                    **self.cipher.decrypt_json(option.address_ciphertext),
                    "latitude": option.latitude,
                    "longitude": option.longitude,
                    **location,
                },
                rest.get("authority_code", option.authority_code),
            )
            rest |= {
                "latitude": merged["latitude"],
                "longitude": merged["longitude"],
                "postcode_district": geography.outcode_of(merged["postcode"]),
                "address_ciphertext": self._seal(merged),
            }
        changed = self.apply(option, rest)
        if changed:
            option.version += 1
        await self.session.flush()
        self.audit("update", record_id, fields=sorted(set(changed) | set(location)))
        return option

    async def retire(self, record_id: Any) -> RehousingOption:
        option = await self.get_for_write(record_id)
        if option.retired_at is None:
            await self._require_no_live_move(option, "be retired")
        return await super().retire(record_id)

    async def _require_no_live_move(self, option: RehousingOption, what: str) -> None:
        """A held or accepted perpetrator move owns the option's status (409 otherwise)."""
        live = await self.session.scalar(
            select(PerpetratorMove.id).where(
                PerpetratorMove.option_id == option.id,
                PerpetratorMove.status.in_(
                    (PerpetratorMoveStatus.HELD, PerpetratorMoveStatus.ACCEPTED)
                ),
            )
        )
        if live is not None:
            raise Conflict(
                f"rehousing option {option.id} is booked by perpetrator move {live}: it cannot "
                f"{what} until the move is withdrawn or ended"
            )

    async def validate(
        self, fields: dict[str, Any], existing: RehousingOption | None = None
    ) -> None:
        if fields.get("provider_id") is not None:
            await self.require_provider(fields["provider_id"])
        if "authority_code" in fields:
            await self.require_authority(fields["authority_code"])

    async def location(self, record_id: uuid.UUID) -> dict[str, Any]:
        if self.principal.role is not Role.PROVIDER:
            raise Forbidden("only the option's own provider can read its address")
        option = await self.get(record_id)
        self.audit("read_location", record_id)
        return {
            **self.cipher.decrypt_json(option.address_ciphertext),
            "latitude": option.latitude,
            "longitude": option.longitude,
        }

    def _seal(self, location: dict[str, Any]) -> bytes:
        return self.cipher.encrypt_json(
            {"address": location["address"], "postcode": location["postcode"]}
        )
