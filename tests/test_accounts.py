"""People's accounts: created with a key's scope rules, argon2-hashed, signed in with a
lock-out after repeated failures, disabled for good; every attempt on the audit trail.

The domain services run directly on the test's database (SQLite, and PostgreSQL when
configured), each step in its own committed transaction, as the sign-in page runs them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.accounts import (
    LockoutPolicy,
    SignInRefusal,
    create_user,
    disable_user,
    principal_for_user,
    sign_in,
)
from placement.config import Settings
from placement.db import create_engine
from placement.enums import Role
from placement.errors import Conflict, InvalidInput
from placement.models import AuditEvent, Authority, User
from placement.security import SYSTEM, Principal

T = TypeVar("T")
PASSWORD = "correct horse battery"
POLICY = LockoutPolicy(max_failures=3, window=timedelta(minutes=15), lock_for=timedelta(minutes=15))
CAMDEN = "E09000007"


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            async with sessions() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def settings(migrated_settings: Settings) -> Settings:
    async def add_camden(session: AsyncSession) -> None:
        session.add(Authority(code=CAMDEN, name="Camden", region="London"))

    in_session(migrated_settings, add_camden)
    return migrated_settings


def new_user(settings: Settings, email: str = "officer@camden.gov.uk", **kw: Any) -> User:
    fields: dict[str, Any] = {"role": Role.HOUSING_OFFICER, "authority_code": CAMDEN} | kw

    async def work(session: AsyncSession) -> User:
        return await create_user(session, SYSTEM, email=email, password=PASSWORD, **fields)

    return in_session(settings, work)


def attempt(settings: Settings, email: str, password: str, now: datetime | None = None) -> Any:
    async def work(session: AsyncSession) -> Principal | SignInRefusal:
        return await sign_in(session, email, password, POLICY, now)

    return in_session(settings, work)


def events(settings: Settings, action: str) -> list[AuditEvent]:
    async def work(session: AsyncSession) -> list[AuditEvent]:
        rows = await session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        return list(rows)

    return in_session(settings, work)


def test_a_right_password_gives_the_accounts_principal(settings: Settings) -> None:
    user = new_user(settings, email=" Officer@Camden.gov.uk ")
    assert user.email == "officer@camden.gov.uk"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    who = attempt(settings, "OFFICER@camden.gov.uk", PASSWORD)
    assert isinstance(who, Principal)
    assert (who.role, who.authority_code, who.user_id, who.key_id) == (
        Role.HOUSING_OFFICER,
        CAMDEN,
        user.id,
        None,
    )
    [signed_in] = events(settings, "sign_in")
    assert signed_in.actor_label == user.email and signed_in.detail["user_id"] == str(user.id)


def test_scope_rules_are_the_keys_rules(settings: Settings) -> None:
    with pytest.raises(InvalidInput) as no_scope:
        new_user(settings, authority_code=None)
    assert no_scope.value.field == "authority_code"
    with pytest.raises(InvalidInput) as unknown:
        new_user(settings, authority_code="E09999999")
    assert unknown.value.field == "authority_code"
    with pytest.raises(InvalidInput) as admin_scoped:
        new_user(settings, role=Role.ADMIN)
    assert admin_scoped.value.field == "role"


def test_bad_emails_short_passwords_and_duplicates_are_refused(settings: Settings) -> None:
    with pytest.raises(InvalidInput) as email:
        new_user(settings, email="not an email")
    assert email.value.field == "email"

    async def short(session: AsyncSession) -> User:
        return await create_user(
            session, SYSTEM, email="a@b.gov.uk", role=Role.ADMIN, password="short"
        )

    with pytest.raises(InvalidInput) as password:
        in_session(settings, short)
    assert password.value.field == "password"
    new_user(settings)
    with pytest.raises(Conflict):
        new_user(settings, email="OFFICER@camden.gov.uk")


def test_repeated_failures_lock_the_account_even_to_the_right_password(
    settings: Settings,
) -> None:
    user = new_user(settings)
    now = datetime.now(UTC)
    assert attempt(settings, user.email, "wrong one", now) is SignInRefusal.WRONG
    assert attempt(settings, user.email, "wrong two", now) is SignInRefusal.WRONG
    assert attempt(settings, user.email, "wrong three", now) is SignInRefusal.LOCKED
    assert attempt(settings, user.email, PASSWORD, now) is SignInRefusal.LOCKED
    # Once the lock has passed, the right password works and the count starts again.
    later = now + POLICY.lock_for + timedelta(seconds=1)
    assert isinstance(attempt(settings, user.email, PASSWORD, later), Principal)
    assert attempt(settings, user.email, "wrong four", later) is SignInRefusal.WRONG
    failed = events(settings, "sign_in_failed")
    assert [e.detail["failures"] for e in failed] == [1, 2, 0, 1]
    assert [e.detail["locked"] for e in failed] == [False, False, True, False]
    assert [e.detail["reason"] for e in events(settings, "sign_in_refused")] == ["locked"]


def test_failures_outside_the_window_do_not_add_up(settings: Settings) -> None:
    user = new_user(settings)
    start = datetime.now(UTC)
    for n in range(5):
        moment = start + n * (POLICY.window + timedelta(seconds=1)) / 2
        moment += timedelta(seconds=n)
        outcome = attempt(settings, user.email, "wrong", moment)
        assert outcome is SignInRefusal.WRONG, n


def test_an_unknown_email_is_a_wrong_password_and_audited(settings: Settings) -> None:
    assert attempt(settings, "nobody@camden.gov.uk", PASSWORD) is SignInRefusal.WRONG
    [failed] = events(settings, "sign_in_failed")
    assert (failed.actor_role, failed.actor_label, failed.record_id) == (
        "anonymous",
        "nobody@camden.gov.uk",
        None,
    )


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(settings: Settings) -> None:
    user = new_user(settings)

    async def disable(session: AsyncSession) -> tuple[User | None, bool]:
        return await disable_user(session, SYSTEM, user.id)

    async def lookup(session: AsyncSession) -> Principal | None:
        return await principal_for_user(session, user.id)

    assert in_session(settings, lookup) is not None
    assert in_session(settings, disable)[1] is True
    assert in_session(settings, disable)[1] is False  # once only, audited once
    assert in_session(settings, lookup) is None
    assert attempt(settings, user.email, PASSWORD) is SignInRefusal.DISABLED
    assert len(events(settings, "disable")) == 1


def test_an_unknown_account_id_has_no_principal(settings: Settings) -> None:
    async def lookup(session: AsyncSession) -> Principal | None:
        return await principal_for_user(session, uuid.uuid4())

    assert in_session(settings, lookup) is None
