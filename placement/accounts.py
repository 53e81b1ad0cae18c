"""People's accounts for the pages: create, list, disable, sign in.

An account has the same role and scope as an API key and yields the same `Principal`, so
a page calls the same services with the same row filters as the API. Passwords are
people's, low in entropy, so unlike keys they are kept as argon2 hashes (argon2-cffi's
defaults, RFC 9106's second recommended profile), and repeated failed sign-ins lock the
account for a while. Every sign-in, failed or not, and every change is audited.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement import audit
from placement.enums import Role
from placement.errors import Conflict, InvalidInput
from placement.models import User
from placement.paging import Page, paginate
from placement.security import Principal, check_scope

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


@cache
def _unknown_hash() -> str:
    """Verified against when no account has the email, so an unknown email costs the same
    time as a wrong password and the answer's timing does not tell which it was."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """`max_failures` failed sign-ins within `window` lock the account for `lock_for`."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


class SignInRefusal(StrEnum):
    """Why a sign-in did not succeed. Shown to people only as one message (see the page):
    telling "no such email" from "wrong password" would help someone guessing."""

    WRONG = "wrong email or password"
    LOCKED = "locked after repeated failed sign-ins"
    DISABLED = "account disabled"


def new_password() -> str:
    """A generated password a person can type: 20 url-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


async def create_user(
    session: AsyncSession,
    actor: Principal,
    *,
    email: str,
    role: Role,
    password: str,
    authority_code: str | None = None,
    provider_id: uuid.UUID | None = None,
    region: str | None = None,
) -> User:
    """A new account; the scope is checked exactly as a key's is."""
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("email", "must be an email address, like name@council.gov.uk")
    check_password(password)
    await check_scope(session, role, authority_code, provider_id, region)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"there is already an account for {email}")
    user = User(
        email=email,
        role=role,
        authority_code=authority_code,
        provider_id=provider_id,
        region=region,
        password_hash=_hasher.hash(password),
        failed_attempts=0,
    )
    session.add(user)
    await session.flush()
    audit.record(session, actor, "create", "user", user.id, email=email, role=str(role))
    return user


async def list_users(session: AsyncSession, limit: int, offset: int) -> Page[User]:
    """Every account, by email (never a password: only hashes are kept)."""
    return await paginate(session, select(User).order_by(User.email), limit, offset)


async def disable_user(
    session: AsyncSession, actor: Principal, user_id: uuid.UUID
) -> tuple[User | None, bool]:
    """The account (None if there is none) and whether this call disabled it.

    A disabled account's sessions stop working at their next request: every request
    looks the account up (`principal_for_user`).
    """
    now = datetime.now(UTC)
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.disabled_at.is_(None))
        .values(disabled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    user = await session.get(User, user_id, populate_existing=True)
    changed = bool(result.rowcount)  # type: ignore[attr-defined]
    if changed and user is not None:
        audit.record(session, actor, "disable", "user", user.id, email=user.email)
    return user, changed


def principal_of(user: User) -> Principal:
    return Principal(
        key_id=None,
        label=user.email,
        role=Role(user.role),
        authority_code=user.authority_code,
        provider_id=user.provider_id,
        region=user.region,
        user_id=user.id,
    )


async def principal_for_user(session: AsyncSession, user_id: uuid.UUID) -> Principal | None:
    """The principal a signed-in session acts as, or None once the account is disabled."""
    user = await session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        return None
    return principal_of(user)


async def sign_in(
    session: AsyncSession,
    email: str,
    password: str,
    policy: LockoutPolicy,
    now: datetime | None = None,
) -> Principal | SignInRefusal:
    """The principal for a right email and password, else why not; audited either way.

    The account row is locked for the check (on PostgreSQL), so two wrong guesses at once
    both count. A locked account is refused even with the right password, and a success
    clears the count.
    """
    now = now or datetime.now(UTC)
    email = normalise_email(email)
    user = await session.scalar(select(User).where(User.email == email).with_for_update())
    if user is None:
        _verify(_unknown_hash(), password)
        audit.record_anonymous(session, email[:120], "sign_in_failed", "user", None, email=email)
        return SignInRefusal.WRONG
    who = principal_of(user)
    if user.disabled_at is not None:
        audit.record(session, who, "sign_in_refused", "user", user.id, reason="disabled")
        return SignInRefusal.DISABLED
    if user.locked_until is not None and _aware(user.locked_until) > now:
        audit.record(session, who, "sign_in_refused", "user", user.id, reason="locked")
        return SignInRefusal.LOCKED
    if not _verify(user.password_hash, password):
        _count_failure(user, policy, now)
        locked = user.locked_until is not None and _aware(user.locked_until) > now
        audit.record(
            session,
            who,
            "sign_in_failed",
            "user",
            user.id,
            failures=user.failed_attempts,
            locked=locked,
        )
        return SignInRefusal.LOCKED if locked else SignInRefusal.WRONG
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_attempts = 0
    user.first_failed_at = None
    user.locked_until = None
    user.last_signed_in_at = now
    audit.record(session, who, "sign_in", "user", user.id)
    return who


def record_sign_out(session: AsyncSession, principal: Principal) -> None:
    audit.record(session, principal, "sign_out", "user", principal.user_id)


def _count_failure(user: User, policy: LockoutPolicy, now: datetime) -> None:
    """Count a failure in the current window (a new window once the last has passed)."""
    first = user.first_failed_at
    if first is None or now - _aware(first) > policy.window:
        user.first_failed_at = now
        user.failed_attempts = 1
    else:
        user.failed_attempts += 1
    if user.failed_attempts >= policy.max_failures:
        user.locked_until = now + policy.lock_for
        user.failed_attempts = 0
        user.first_failed_at = None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive times; every time stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)
