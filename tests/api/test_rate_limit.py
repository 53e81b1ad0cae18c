"""The in-memory limiter counts as Litestar's did: the allowance, then refusals that do
not count, then a fresh window; its headers say what is left of the window."""

from __future__ import annotations

from litestar.middleware.rate_limit import RateLimitConfig

from api.rate_limit import PRUNE_AFTER, CountingRateLimitMiddleware


async def _app(*_: object) -> None:
    return None


def limiter(allowance: int) -> CountingRateLimitMiddleware:
    return CountingRateLimitMiddleware(_app, RateLimitConfig(rate_limit=("minute", allowance)))


def test_a_window_allows_its_allowance_and_refusals_are_not_counted() -> None:
    limit = limiter(3)
    counts = [limit.count("a", now=1000.0).count for _ in range(5)]
    assert counts == [1, 2, 3, 4, 4]  # above 3: refused
    assert limit.windows["a"].count == 3  # the refusals did not count
    assert limit.count("b", now=1000.0).count == 1  # another client: its own window
    assert limit.count("a", now=1059.9).count == 4  # still the same window
    assert limit.count("a", now=1060.0).count == 1  # a new one


def test_headers_say_what_is_left() -> None:
    limit = limiter(2)
    first = limit.headers(limit.count("a"))
    assert first["RateLimit-Limit"] == "2" and first["RateLimit-Remaining"] == "1"
    assert first["RateLimit-Policy"] == "2; w=60"
    assert 0 < int(first["RateLimit-Reset"]) <= 60
    limit.count("a")
    assert limit.headers(limit.count("a"))["RateLimit-Remaining"] == "0"


def test_ended_windows_are_dropped_when_clients_pile_up() -> None:
    limit = limiter(5)
    for n in range(PRUNE_AFTER):
        limit.count(f"old-{n}", now=0.0)
    limit.count("new", now=120.0)
    assert list(limit.windows) == ["new"]
