"""The Litestar application: one factory, configured from `Settings`.

Nothing a second worker would need is kept in this process: sessions, keys, offers and
audit live in the database. The only per-process state is caches that are checked
against the database, and the rate limiter's counters (per worker, documented).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.allocations import AllocationController
from api.audit_log import AuditController
from api.auth import BearerKeyMiddleware, key_unchecked, rate_limit_identity
from api.authorities import AuthorityController
from api.common import ApiResponse, provide_principal
from api.cors import cors_middleware
from api.docs_assets import docs_asset_routers, docs_render_plugins
from api.headers import security_headers
from api.health import health
from api.jobs import JobController
from api.keys import KeyController
from api.matches import MatchController
from api.offers import OfferController
from api.openapi import document_problems
from api.options import complete_allow
from api.pages import pages_router, template_config
from api.pages.assets import page_asset_routers
from api.pages.errors import not_found
from api.perpetrator_links import PerpetratorLinkController
from api.perpetrator_moves import PerpetratorMoveController
from api.placements import PlacementController
from api.problem_types import problem_types_page
from api.problems import internal_error, problem_details_plugin
from api.protocols import ProtocolController
from api.providers import ProviderController
from api.rate_limit import counting
from api.referrals import ReferralController
from api.rehousing import RehousingController
from api.reports import ReportController, document_report_formats
from api.schema_docs import DescribedStructs
from api.schemes import SchemeController
from api.sessions import letting_untouched_go
from api.simulations import SimulationController
from api.strict import StrictRequest, check_query
from api.units import UnitController
from api.what_if import WhatIfController
from placement.audit import ReadAudit
from placement.config import Settings
from placement.crypto import load_cipher
from placement.db import create_engine
from placement.housekeeping import run_forever
from placement.inline_reads import InlineReads
from placement.jobs import kinds, queue
from placement.jobs.runners import Deps
from placement.matching.index import RegistryIndex
from placement.runtime import Runtime
from placement.security import PrincipalCache

API_DESCRIPTION = """
The shared register of safe-accommodation vacancies, protocols between authorities and
perpetrator-rehousing options. Every `/api/v1` call needs `Authorization: Bearer <key>`.
Errors are RFC 9457 problem documents naming the field and the rule.
"""


def background(
    work: Callable[[Litestar], Coroutine[Any, Any, None]],
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan step that runs `work(app)` as a task while the app runs."""

    @asynccontextmanager
    async def run(app: Litestar) -> AsyncIterator[None]:
        task = asyncio.create_task(work(app))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    return run


def _write_read_audit(app: Litestar) -> Coroutine[Any, Any, None]:
    """Batches of read audit events (see `placement.audit.ReadAudit`)."""
    return app.state.runtime.reads.run()  # type: ignore[no-any-return]


def _run_jobs(app: Litestar) -> Coroutine[Any, Any, None]:
    """Jobs in this process (SQLite's default; see `placement.jobs.queue`)."""
    kinds.register()
    return queue.run_forever(Deps(app.state.sessions, app.state.runtime))


def _housekeeping(app: Litestar) -> Coroutine[Any, Any, None]:
    """Sweep expired offer holds (and prune the change feed)."""
    return run_forever(app.state.sessions)


@asynccontextmanager
async def warm_up(app: Litestar) -> AsyncIterator[None]:
    """Load the registry index before the first request, then freeze what is loaded out of
    the garbage collector's way.

    The index and the imported modules are long-lived objects in their hundreds of
    thousands; a full collection scanning them stalled every request in flight for about
    200 ms, several times a minute under the load test. Frozen, they are never scanned.
    For a serving process only: tests make many apps in one process.
    """
    async with app.state.sessions() as session:
        await app.state.runtime.index.current(session)
    gc.collect()
    gc.freeze()
    yield


def create_app(settings: Settings | None = None, *, serving: bool = False) -> Litestar:
    """The app; `serving` for a server process (it warms up at start, see `warm_up`)."""
    settings = settings or Settings.from_env()
    engine = create_engine(settings)
    # The read audit writer has a connection of its own: requests wait for it while holding
    # theirs, so drawing from their pool could leave it none.
    audit_engine = create_engine(settings, connections=1)
    cipher = load_cipher(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    inline = InlineReads(settings.database_url)

    async def dispose_engine() -> None:
        """Close pooled connections, so an app made and dropped (as in tests) leaks none."""
        await engine.dispose()
        await audit_engine.dispose()
        inline.dispose()

    alchemy = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        before_send_handler="autocommit",
        session_config=AsyncSessionConfig(expire_on_commit=False),
        set_default_exception_handler=False,
    )
    alchemy.before_send_handler = letting_untouched_go(alchemy)
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        identifier_for_request=rate_limit_identity,
    )
    # Before the key check: unchecked keys per client address (see `key_unchecked`).
    unknown_key_limit = RateLimitConfig(
        rate_limit=("minute", settings.unknown_key_rate_limit_per_minute),
        identifier_for_request=get_remote_address,
        check_throttle_handler=key_unchecked,
    )
    api = Router(
        path="/api/v1",
        route_handlers=[
            AuthorityController,
            ProviderController,
            SchemeController,
            UnitController,
            ProtocolController,
            RehousingController,
            KeyController,
            AuditController,
            ReferralController,
            OfferController,
            PlacementController,
            PerpetratorMoveController,
            MatchController,
            AllocationController,
            PerpetratorLinkController,
            ReportController,
            JobController,
            WhatIfController,
            SimulationController,
        ],
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        middleware=[
            counting(unknown_key_limit),
            DefineMiddleware(BearerKeyMiddleware),
            counting(rate_limit),
        ],
        response_class=ApiResponse,
        security=[{"BearerKey": []}],
    )
    app = Litestar(
        route_handlers=[
            health,
            problem_types_page,
            api,
            pages_router(settings, alchemy, cipher),
            *docs_asset_routers(),
            *page_asset_routers(),
        ],
        template_config=template_config(),
        plugins=[SQLAlchemyPlugin(config=alchemy), problem_details_plugin(), DescribedStructs()],
        exception_handlers={Exception: internal_error, NotFoundException: not_found},
        lifespan=[
            background(_write_read_audit),
            *([warm_up] if serving else []),
            background(_housekeeping),
            *([background(_run_jobs)] if settings.jobs_in_process else []),
        ],
        on_shutdown=[dispose_engine],
        request_max_body_size=settings.max_body_bytes,
        request_class=StrictRequest,
        before_request=check_query,
        before_send=[security_headers, complete_allow],
        middleware=cors_middleware(settings),
        state=State(
            {
                "settings": settings,
                "sessions": sessions,
                "principals": PrincipalCache(settings.key_cache_seconds),
                "runtime": Runtime(
                    settings=settings,
                    cipher=cipher,
                    reads=ReadAudit(audit_engine, settings.database_timeouts.sqlite_busy),
                    index=RegistryIndex(cipher, settings.self_contained_types()),
                    weights=settings.match_weights(),
                    inline=inline,
                ),
            }
        ),
        openapi_config=OpenAPIConfig(
            title="Safe-accommodation placement service",
            version="0.1.0",
            description=API_DESCRIPTION,
            path="/schema",
            render_plugins=docs_render_plugins(),
            components=Components(
                security_schemes={
                    "BearerKey": SecurityScheme(
                        type="http", scheme="bearer", description="an API key from an admin"
                    )
                }
            ),
        ),
    )
    document_problems(app)
    document_report_formats(app)
    return app
