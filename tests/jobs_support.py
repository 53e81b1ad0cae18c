"""Helpers for tests of jobs: fast-polling settings, waiting for a job's status (a bound
on tries, never on time), and a `placement worker` process on the test's database."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from placement.config import Settings
from tests.conftest import API, TEST_SECRET, Actors

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS, STALE_SECONDS = 0.1, 1.0


def fast(settings: Settings, in_process: bool | None = None) -> Settings:
    return dataclasses.replace(
        settings,
        jobs_in_process_setting=in_process,
        job_poll_seconds=POLL_SECONDS,
        job_stale_seconds=STALE_SECONDS,
    )


def wait_for(check: Callable[[], Any], what: str, tries: int = 1200) -> Any:
    """Poll until `check()` is truthy (a bound on tries, never on time)."""
    for _ in range(tries):
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def job(actors: Actors, job_id: object, who: str = "admin") -> dict[str, Any]:
    response = actors.get(who, f"{API}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def until_status(actors: Actors, job_id: object, *statuses: str) -> dict[str, Any]:
    def seen() -> dict[str, Any] | None:
        body = job(actors, job_id)
        return body if body["status"] in statuses else None

    return dict(wait_for(seen, f"job {job_id} {statuses}"))


@contextmanager
def worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A `placement worker` process (with the test gate kind) on the test's database."""
    env = {
        **os.environ,
        "PLACEMENT_DATABASE_URL": settings.database_url,
        "PLACEMENT_SECRET_KEY": TEST_SECRET,
        "PLACEMENT_DATA_DIR": str(settings.data_dir),
        "PLACEMENT_JOB_POLL_SECONDS": str(POLL_SECONDS),
        "PLACEMENT_JOB_STALE_SECONDS": str(STALE_SECONDS),
    }
    process = subprocess.Popen([sys.executable, "-m", "tests.job_gate"], cwd=ROOT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def runner(settings: Settings) -> Iterator[None]:
    """Whatever runs jobs besides the app: a worker on PostgreSQL, nothing on SQLite."""
    if settings.is_sqlite:
        yield
        return
    with worker(settings):
        yield


def run_to_the_end(actors: Actors, accepted: Any) -> dict[str, Any]:
    """The job a 202 answer names, once it has run (by a worker on PostgreSQL)."""
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["location"] == f"{API}/jobs/{accepted.json()['id']}"
    with runner(actors.settings):
        return until_status(actors, accepted.json()["id"], "succeeded", "failed", "cancelled")
