"""The per-worker principal cache: trusted for its TTL, forgotten at once on revocation."""

import uuid

from placement.enums import Role
from placement.security import Principal, PrincipalCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def principal() -> Principal:
    return Principal(
        key_id=uuid.uuid4(), label="t", role=Role.HOUSING_OFFICER, authority_code="E08000003"
    )


def test_a_cached_key_expires_after_its_ttl() -> None:
    clock = Clock()
    cache = PrincipalCache(ttl=5, clock=clock)
    who = principal()
    cache.put("psk_a", who)
    clock.now += 4.9
    assert cache.get("psk_a") == who
    clock.now += 0.2
    assert cache.get("psk_a") is None


def test_forget_drops_every_entry_of_a_revoked_key_at_once() -> None:
    cache = PrincipalCache(ttl=60, clock=Clock())
    revoked, other = principal(), principal()
    cache.put("psk_a", revoked)
    cache.put("psk_b", other)
    cache.forget(revoked.key_id)  # type: ignore[arg-type]
    assert cache.get("psk_a") is None
    assert cache.get("psk_b") == other


def test_a_zero_ttl_disables_the_cache() -> None:
    cache = PrincipalCache(ttl=0)
    cache.put("psk_a", principal())
    assert cache.get("psk_a") is None
