"""API keys and the principal a key acts as.

Keys are 256 bits from `secrets`, shown once; only their SHA-256 is stored. A salted slow
hash (bcrypt, argon2) protects low-entropy passwords; for a random 256-bit token a plain
SHA-256 is as strong and lets the key be found by an index lookup on every request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement.enums import OFFICER_ROLES, Role
from placement.errors import Conflict, InvalidInput
from placement.geography import ENGLISH_REGIONS
from placement.models import ApiKey, Authority, Provider
from placement.paging import Page, paginate

KEY_PREFIX = "psk_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, and the slice of the data their role and scope allow."""

    key_id: uuid.UUID | None
    label: str
    role: Role
    authority_code: str | None = None
    provider_id: uuid.UUID | None = None
    region: str | None = None
    user_id: uuid.UUID | None = None
    """Set when a person signed in to the pages acts (`key_id` is then None)."""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_officer(self) -> bool:
        """Housing officers and integrations act alike, for one authority."""
        return self.role in OFFICER_ROLES


SYSTEM = Principal(key_id=None, label="placement cli", role=Role.ADMIN)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def principal_for_key(session: AsyncSession, key: str) -> Principal | None:
    """The principal for a presented key, or None when it is unknown or revoked."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    return Principal(
        key_id=row.id,
        label=row.name,
        role=Role(row.role),
        authority_code=row.authority_code,
        provider_id=row.provider_id,
        region=row.region,
    )


async def create_api_key(
    session: AsyncSession,
    *,
    role: Role,
    name: str,
    authority_code: str | None = None,
    provider_id: uuid.UUID | None = None,
    region: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plaintext key (the only time it exists)."""
    await check_scope(session, role, authority_code, provider_id, region)
    plaintext = new_key()
    row = ApiKey(
        name=name,
        role=role,
        authority_code=authority_code,
        provider_id=provider_id,
        region=region,
        key_hash=hash_key(plaintext),
        key_prefix=plaintext[: len(KEY_PREFIX) + 6],
    )
    session.add(row)
    await session.flush()
    return row, plaintext


async def check_scope(
    session: AsyncSession,
    role: Role,
    authority_code: str | None,
    provider_id: uuid.UUID | None,
    region: str | None,
) -> None:
    """Each role carries exactly the scope it needs, and the scope must exist (keys and
    user accounts alike)."""
    wants_authority = role in OFFICER_ROLES
    if wants_authority and not authority_code:
        words = role.value.replace("_", " ")
        raise InvalidInput("authority_code", f"a {words} key or account is scoped to one authority")
    if role is Role.PROVIDER and provider_id is None:
        raise InvalidInput("provider_id", "a provider key or account is scoped to one provider")
    if role is Role.COMMISSIONER and not (authority_code or region):
        raise InvalidInput(
            "region", "a commissioner key or account is scoped to an authority or a region"
        )
    if role is Role.ADMIN and (authority_code or provider_id or region):
        raise InvalidInput("role", "an admin key has no scope")
    if role is not Role.PROVIDER and provider_id is not None:
        raise InvalidInput("provider_id", "only provider keys are scoped to a provider")
    if role not in (Role.COMMISSIONER,) and region:
        raise InvalidInput("region", "only commissioner keys are scoped to a region")
    if authority_code and await session.get(Authority, authority_code) is None:
        raise InvalidInput("authority_code", f"no authority with code {authority_code}")
    if provider_id and await session.get(Provider, provider_id) is None:
        raise InvalidInput("provider_id", f"no provider with id {provider_id}")
    if region and not await _region_exists(session, region):
        raise InvalidInput("region", f"{region!r} is neither an English region nor a group")


async def _region_exists(session: AsyncSession, region: str) -> bool:
    if region in ENGLISH_REGIONS:
        return True
    found = await session.scalar(select(Authority.code).where(Authority.group_name == region))
    return found is not None


async def list_keys(session: AsyncSession, limit: int, offset: int) -> Page[ApiKey]:
    """Every key, oldest first (never the keys themselves: only their hashes are kept)."""
    stmt = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    return await paginate(session, stmt, limit, offset)


async def revoke_key(
    session: AsyncSession, key_id: uuid.UUID, *, keep_an_admin: bool = True
) -> tuple[ApiKey | None, bool]:
    """The key (None if there is none), and whether this call revoked it.

    A conditional UPDATE, so of two revocations at once exactly one revokes (and is
    audited); the other finds the key already revoked. With `keep_an_admin` (the API),
    the last working admin key is not revoked (409): nobody could issue keys again except
    from the command line. The live admin keys are locked first (on PostgreSQL), so two
    admins revoking each other's keys at once cannot both win.
    """
    if keep_an_admin:
        await _require_another_admin(session, key_id)
    now = datetime.now(UTC)
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    row = await session.get(ApiKey, key_id, populate_existing=True)
    return row, bool(result.rowcount)  # type: ignore[attr-defined]


async def live_admin_keys(session: AsyncSession) -> list[uuid.UUID]:
    """Admin keys not revoked, locked until the transaction ends where the database can."""
    rows = await session.scalars(
        select(ApiKey.id)
        .where(ApiKey.role == Role.ADMIN, ApiKey.revoked_at.is_(None))
        .with_for_update()
    )
    return list(rows)


async def _require_another_admin(session: AsyncSession, key_id: uuid.UUID) -> None:
    admins = await live_admin_keys(session)
    if admins == [key_id]:
        raise Conflict(
            "this is the last admin key that works: revoking it would leave nobody able to "
            "issue keys; create another admin key first"
        )


class PrincipalCache:
    """Keys this worker has checked recently, so not every request costs a key lookup.

    A revocation takes effect at once on the worker that made it (it calls `forget`) and
    within `ttl` seconds on every other worker. Entries are keyed by the key's SHA-256,
    so the cache never holds a usable key.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(hash_key(key))
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[hash_key(key)] = (self.clock() + self.ttl, principal)

    def forget(self, key_id: uuid.UUID) -> None:
        self._entries = {
            digest: entry for digest, entry in self._entries.items() if entry[1].key_id != key_id
        }
