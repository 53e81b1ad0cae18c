"""CPU per request, in process: `python -m load_tests.cpu [--database ...] [--profile]`.

Locust measures the service from outside, through the network and a busy machine. This
drives the real app (`create_app`, serving) straight through ASGI in one event loop,
with the national fixture seeded as for the load test, so the figure is the service's
own CPU per request and little else: no sockets, no HTTP parsing, no second process.
Match requests and /health requests are timed alike, `--concurrency` of them in flight.

With `--profile`, cProfile runs around the match requests and the report says where
their CPU went, by layer (the package a function lives in: the framework, SQLAlchemy,
the driver, the matcher, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from litestar import Litestar

from api.app import create_app
from load_tests.__main__ import database, placement
from load_tests.plan import build_plan
from placement.config import Settings

LAYERS = (
    ("/litestar/middleware/rate_limit.py", "Litestar rate limiters"),
    ("/litestar/stores/", "Litestar rate limiters"),
    ("/litestar/", "Litestar (routing, other middleware, DI, responses)"),
    ("/api/auth.py", "key check (api.auth)"),
    ("/api/strict.py", "strict query check (api.strict)"),
    ("/api/", "api (other)"),
    ("/optimiser/", "matcher (optimiser, numpy)"),
    ("/numpy/", "matcher (optimiser, numpy)"),
    ("/placement/audit", "read audit (placement.audit)"),
    ("/placement/", "placement (service, index, households)"),
    ("/advanced_alchemy/", "advanced-alchemy (session per request)"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/aiosqlite/", "driver (aiosqlite, sqlite3)"),
    ("/sqlite3/", "driver (aiosqlite, sqlite3)"),
    ("/asyncpg/", "driver (asyncpg)"),
    ("/msgspec/", "JSON (msgspec)"),
    ("/cryptography/", "household decryption"),
    ("/asyncio/", "event loop and threads"),
    ("/anyio/", "event loop and threads"),
    ("/threading.py", "event loop and threads"),
    ("/queue.py", "event loop and threads"),
    ("/concurrent/", "event loop and threads"),
)
"""Layers by where a function is defined (first match); a builtin counts for its caller's."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load_tests.cpu", description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000, help="match requests timed")
    parser.add_argument("--concurrency", type=int, default=25, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best is kept")
    parser.add_argument("--profile", action="store_true", help="cProfile the match requests")
    parser.add_argument("--save", type=Path, help="with --profile: write the pstats file here")
    return parser.parse_args(argv)


class Asgi:
    """GET requests sent straight to the app's ASGI callable."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def get(self, path: str, key: str | None = None) -> int:
        headers = [(b"host", b"127.0.0.1")]
        if key:
            headers.append((b"authorization", f"Bearer {key}".encode()))
        route, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await self.app(scope, receive, send)  # type: ignore[arg-type]
        return status


async def run_all(
    requests: Sequence[Callable[[], Awaitable[int]]], concurrency: int
) -> tuple[float, float]:
    """CPU and wall seconds for all `requests`, `concurrency` in flight; every one must
    answer 200 (a figure for failed requests would flatter the service)."""
    queue = list(reversed(requests))

    async def worker() -> None:
        while queue:
            status = await queue.pop()()
            if status != 200:
                raise SystemExit(f"a request answered {status}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - cpu, time.perf_counter() - wall


def match_requests(client: Asgi, plan: dict[str, Any], count: int) -> list[Any]:
    chosen = random.Random(1)
    officers = plan["officers"]
    calls = []
    for _ in range(count):
        officer = chosen.choice(officers)
        referral = chosen.choice(officer["referrals"])
        path = f"/api/v1/referrals/{referral}/matches?limit=10"
        calls.append(lambda p=path, k=officer["key"]: client.get(p, k))
    return calls


def layer_of(filename: str) -> str:
    for fragment, label in LAYERS:
        if fragment in filename:
            return label
    return "other"


def report_profile(profile: cProfile.Profile, requests: int) -> None:
    """CPU by layer: each function's own time, a builtin's (a C function: JSON, SQLite,
    a lock) split among its callers' layers in proportion to the calls it had from each."""
    raw: dict[Any, tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, callers) in raw.items():
        if filename != "~" or not callers:
            by_layer[layer_of(filename)] += tottime
            continue
        edges = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller_file, _, _), edge in callers.items():
            by_layer[layer_of(caller_file)] += tottime * edge[2] / edges
    total = sum(by_layer.values())
    print(f"\nwhere a match request's CPU goes (cProfile on process time, {requests} requests):")
    for label, seconds in sorted(by_layer.items(), key=lambda item: -item[1]):
        share = 100 * seconds / total
        print(f"  {label:52} {1e6 * seconds / requests:6.0f} us  {share:4.1f}%")


async def measure(settings: Settings, plan: dict[str, Any], args: argparse.Namespace) -> None:
    app = create_app(settings, serving=True)
    client = Asgi(app)
    async with app.lifespan():
        warm = match_requests(client, plan, 200)
        await run_all(warm, args.concurrency)
        for kind in ("health", "matches"):
            best = None
            for _ in range(args.rounds):
                if kind == "health":
                    calls = [lambda: client.get("/health")] * args.requests
                else:
                    calls = match_requests(client, plan, args.requests)
                cpu, wall = await run_all(calls, args.concurrency)
                best = min(best or (cpu, wall), (cpu, wall))
            assert best is not None
            cpu, wall = best
            print(
                f"{kind:8} {1e3 * cpu / args.requests:6.3f} ms CPU/request   "
                f"{args.requests / wall:7.0f} req/s in one process "
                f"({args.concurrency} in flight, best of {args.rounds})"
            )
        if args.profile:
            profile = cProfile.Profile(time.process_time)
            calls = match_requests(client, plan, args.requests)
            profile.enable()
            await run_all(calls, args.concurrency)
            profile.disable()
            report_profile(profile, args.requests)
            if args.save:
                profile.dump_stats(args.save)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="placement-cpu-") as tmp:
        workdir = Path(tmp)
        with database(args.database, workdir) as url:
            settings = Settings(
                data_dir=workdir / "data",
                database_url=url,
                secret_key=Fernet.generate_key().decode(),
            )
            env = {
                **os.environ,
                "PLACEMENT_DATA_DIR": str(settings.data_dir),
                "PLACEMENT_DATABASE_URL": url,
                "PLACEMENT_SECRET_KEY": settings.secret_key or "",
            }
            placement("seed", "--scale", "national", env=env)
            plan = asyncio.run(build_plan(settings))
            # The load generator is one client: no limit may refuse it (the limiters
            # still count every request, as they would at any limit).
            settings = replace(
                settings,
                rate_limit_per_minute=10_000_000,
                unknown_key_rate_limit_per_minute=10_000_000,
            )
            asyncio.run(measure(settings, plan, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
