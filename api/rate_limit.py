"""Rate limits counted in the worker's memory: Litestar's limiter without its store.

Litestar's `RateLimitMiddleware` keeps, per client, the timestamp of every request in its
window, as JSON in a store: each request decodes that list, prepends to it and encodes it
again, under one lock for all clients. Its window is fixed (the list is dropped whole when
the window ends), so only the list's length is ever used: a request cost work in
proportion to the requests made before it in the window (up to the allowance, 1,200 a
minute by default; far more under the load test). The store was this worker's memory
anyway (the limits are per worker, see README), so here each client's window is a count
in a dict: the same allowance, the same refusals (429 with the same `RateLimit-*`
headers) and the same configuration, at a constant cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.headers import set_headers

PRUNE_AFTER = 10_000
"""Windows kept before the ended ones are dropped (clients come and go); if most are
still open, the next pruning waits until there are twice as many."""


@dataclass(slots=True)
class Window:
    """One client's current window: requests counted so far, and when it ends."""

    count: int
    ends: int


class CountingRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's limiter, each client's window a counter in this worker's memory."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        self.seconds = DURATION_VALUES[self.unit]
        self.windows: dict[str, Window] = {}
        self.prune_at = PRUNE_AFTER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope)
        if await self.should_check_request(request=request):
            window = self.count(self.cache_key_from_request(request))
            if window.count > self.max_requests:
                raise TooManyRequestsException(headers=self.headers(window))
            if self.config.set_rate_limit_headers:
                send = self.with_headers(send, self.headers(window))
        await self.app(scope, receive, send)

    def count(self, key: str, now: float | None = None) -> Window:
        """Count a request against `key`'s window (a new one if the last has ended).

        A refused request is not counted, as in Litestar's limiter: a client over its
        allowance is let in again when the window ends, however hard it kept trying.
        """
        second = int(time.time() if now is None else now)
        window = self.windows.get(key)
        if window is None or window.ends <= second:
            if len(self.windows) >= self.prune_at:
                self.windows = {k: w for k, w in self.windows.items() if w.ends > second}
                self.prune_at = max(PRUNE_AFTER, 2 * len(self.windows))
            window = self.windows[key] = Window(0, second + self.seconds)
        if window.count < self.max_requests:
            window.count += 1
            return window
        return Window(self.max_requests + 1, window.ends)

    def headers(self, window: Window) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={self.seconds}",
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(max(self.max_requests - window.count, 0)),
            config.rate_limit_reset_header_key: str(window.ends - int(time.time())),
        }

    def with_headers(self, send: Send, extra: dict[str, str]) -> Send:
        """`send`, adding the headers as of the request's own count to its response."""

        encoded = {name.lower().encode(): value.encode() for name, value in extra.items()}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_headers(message, encoded)
            await send(message)

        return send_with_headers


def counting(config: RateLimitConfig) -> DefineMiddleware:
    """`config.middleware`, counted in memory (`CountingRateLimitMiddleware`)."""
    return DefineMiddleware(CountingRateLimitMiddleware, config=config)
