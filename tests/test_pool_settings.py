"""Pool sizes: per backend by default, set by an operator through the environment, and a
size that cannot work refused at start rather than at the first request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from placement.config import Settings
from placement.db import create_engine

URLS = {
    "sqlite": "sqlite+aiosqlite:///{dir}/placement.db",
    "postgresql": "postgresql+asyncpg://nobody@127.0.0.1:1/none",  # never connected to
}


def pool_of(settings: Settings) -> tuple[int, int]:
    engine = create_engine(settings)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        return pool.size(), pool._max_overflow
    finally:
        asyncio.run(engine.dispose())


@pytest.mark.parametrize("kind", URLS)
def test_pools_are_sized_by_the_environment(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLACEMENT_DATABASE_URL", URLS[kind].format(dir=tmp_path))
    default = pool_of(Settings.from_env())
    assert default == ((20, 20) if kind == "sqlite" else (25, 10))
    monkeypatch.setenv("PLACEMENT_DB_POOL_SIZE", "7")
    monkeypatch.setenv("PLACEMENT_DB_POOL_OVERFLOW", "0")
    assert pool_of(Settings.from_env()) == (7, 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PLACEMENT_DB_POOL_SIZE", "0"),
        ("PLACEMENT_DB_POOL_OVERFLOW", "-1"),
        ("PLACEMENT_DB_POOL_SIZE", "many"),
    ],
)
def test_a_pool_size_that_cannot_work_is_refused(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=name):
        Settings.from_env()
