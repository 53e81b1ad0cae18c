"""What every registry service shares: scoped reads, paging, retiring, audit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.enums import OFFICER_ROLES, Role
from placement.errors import Forbidden, InvalidInput, NotFound
from placement.models import Authority, Provider
from placement.paging import Page, paginate
from placement.security import Principal

if TYPE_CHECKING:
    from placement.runtime import Runtime

M = TypeVar("M")


class RegistryService(Generic[M]):
    """Base for the services of one record kind.

    Subclasses set `model`, `record_type`, `writers` (roles that may write at all) and
    override `visible` (row filter for reads) and `writable` (row filter for writes).
    """

    model: ClassVar[type[Any]]
    record_type: ClassVar[str]
    writers: ClassVar[frozenset[Role]] = frozenset({Role.ADMIN})
    readers: ClassVar[frozenset[Role]] = frozenset(Role)

    def __init__(self, session: AsyncSession, principal: Principal, runtime: Runtime) -> None:
        self.session = session
        self.principal = principal
        self.cipher = runtime.cipher
        self.reads = runtime.reads

    # -- row filters -------------------------------------------------------------------
    def visible(self, stmt: Select[Any]) -> Select[Any]:
        """The rows this principal may read. Default: all of them."""
        return stmt

    def writable(self, stmt: Select[Any]) -> Select[Any]:
        """The rows this principal may change. Default: what they may read."""
        return self.visible(stmt)

    # -- checks ------------------------------------------------------------------------
    def require_reader(self) -> None:
        if self.principal.role not in self.readers:
            raise Forbidden(f"the {self.principal.role} role cannot read {self.record_type}s")

    def require_writer(self) -> None:
        if self.principal.role not in self.writers:
            raise Forbidden(f"the {self.principal.role} role cannot change {self.record_type}s")

    # -- reads -------------------------------------------------------------------------
    def base_query(self) -> Select[Any]:
        return select(self.model)

    async def page(self, stmt: Select[Any], limit: int, offset: int) -> Page[Any]:
        self.require_reader()
        return await paginate(self.session, self.visible(stmt), limit, offset)

    async def get(self, record_id: Any) -> M:
        self.require_reader()
        found = await self.session.scalar(
            self.visible(self.base_query()).where(self._pk() == record_id)
        )
        if found is None:
            raise NotFound(self.record_type, record_id)
        return found  # type: ignore[no-any-return]

    async def get_for_write(self, record_id: Any) -> M:
        """Fetch a row to change it, locking it where the database can (PostgreSQL)."""
        self.require_writer()
        found = await self.session.scalar(
            self.writable(select(self.model)).where(self._pk() == record_id).with_for_update()
        )
        if found is None:
            raise NotFound(self.record_type, record_id)
        return found  # type: ignore[no-any-return]

    def _pk(self) -> Any:
        return self.model.id

    # -- writes ------------------------------------------------------------------------
    def apply(self, row: M, changes: dict[str, Any]) -> list[str]:
        """Set changed attributes; returns the names of those that really changed."""
        changed = []
        for name, value in changes.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(name)
        return changed

    async def add(self, row: M, fields: Iterable[str]) -> M:
        self.session.add(row)
        await self.session.flush()
        self.audit("create", self._id_of(row), fields=sorted(fields))
        return row

    async def update(self, record_id: Any, changes: dict[str, Any]) -> M:
        row = await self.get_for_write(record_id)
        await self.validate(changes, row)
        changed = self.apply(row, changes)
        await self.session.flush()
        self.audit("update", record_id, fields=sorted(changed))
        return row

    async def retire(self, record_id: Any) -> M:
        """Retire rather than delete: history (placements, reports, audit) keeps pointing here."""
        row = await self.get_for_write(record_id)
        if getattr(row, "retired_at", None) is None:
            row.retired_at = datetime.now(UTC)  # type: ignore[attr-defined]
            self.on_retire(row)
            await self.session.flush()
            self.audit("retire", record_id)
        return row

    def on_retire(self, row: M) -> None:
        """Hook for kinds that must mark retirement further (e.g. a version bump)."""

    async def validate(self, fields: dict[str, Any], existing: M | None = None) -> None:
        """Semantic checks beyond the wire shape (references exist, places are real)."""

    def audit(self, action: str, record_id: Any, **detail: Any) -> None:
        audit.record(self.session, self.principal, action, self.record_type, record_id, **detail)

    def _id_of(self, row: M) -> Any:
        return row.id  # type: ignore[attr-defined]

    # -- shared reference checks ---------------------------------------------------------
    async def require_authority(self, code: str, field: str = "authority_code") -> Authority:
        authority = await self.session.get(Authority, code)
        if authority is None:
            raise InvalidInput(field, f"no authority with code {code}")
        if authority.retired_at is not None:
            raise InvalidInput(field, f"authority {code} is retired")
        return authority

    async def require_provider(self, provider_id: Any, field: str = "provider_id") -> Provider:
        provider = await self.session.get(Provider, provider_id)
        if provider is None:
            raise InvalidInput(field, f"no provider with id {provider_id}")
        if provider.retired_at is not None:
            raise InvalidInput(field, f"provider {provider_id} is retired")
        return provider


def active_only(stmt: Select[Any], model: Any, include_retired: bool) -> Select[Any]:
    return stmt if include_retired else stmt.where(model.retired_at.is_(None))


READERS = frozenset({Role.ADMIN, Role.PROVIDER, *OFFICER_ROLES})
"""Who may read the accommodation registry (commissioners get aggregates, not rows)."""


class ProviderOwnedService(RegistryService[M]):
    """Records a provider owns and whose location is sealed: schemes, rehousing options.

    Providers see and change only their own; admins and providers write; officers read.
    """

    writers = frozenset({Role.ADMIN, Role.PROVIDER})
    readers = READERS

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        if self.principal.role is Role.PROVIDER:
            return stmt.where(self.model.provider_id == self.principal.provider_id)
        return stmt
