"""An app that a test is done with is released: nothing of ours keeps it alive, and its log
thread has ended. The suite makes hundreds of apps in one process; each one kept cost
megabytes, and the heap it grew to made every full garbage collection slower."""

from __future__ import annotations

import asyncio
import gc
import threading

from litestar import Litestar

from placement.cli import issue_key
from placement.config import Settings
from placement.enums import Role
from tests.conftest import API, app_client

APPS = 3


def apps_alive() -> int:
    gc.collect()
    return sum(isinstance(thing, Litestar) for thing in gc.get_objects())


def test_apps_made_and_dropped_are_released_with_their_threads(
    migrated_settings: Settings,
) -> None:
    key = asyncio.run(issue_key(migrated_settings, Role.ADMIN, "release test"))
    headers = {"Authorization": f"Bearer {key}"}
    before, threads = apps_alive(), threading.active_count()
    for _ in range(APPS):
        with app_client(migrated_settings) as client:
            # A query checked strictly: what `api.strict` remembers of a handler.
            answer = client.get(f"{API}/units", params={"limit": 1}, headers=headers)
            assert answer.status_code == 200, answer.text
    # The module-level handlers (such as /health) hold the app they were last registered
    # on, so at most the newest one may still be alive.
    assert apps_alive() - before <= 1
    assert threading.active_count() <= threads
