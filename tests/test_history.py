"""`placement seed --history`: months of records written through the services, on SQLite
and PostgreSQL. The run ends in states the service can reach (`check_records`), what it
reports matches the rows (counted here independently), and a seed gives one history."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, func, select

from fixtures.history import HistoryReport, seed_history
from placement.cli import main
from placement.config import Settings
from placement.consistency import check_records
from placement.db import create_engine, migrate
from placement.models import (
    DecisionSnapshot,
    Offer,
    PerpetratorMove,
    Placement,
    Referral,
    ReferralCharacteristics,
)
from tests.conftest import settings_for, with_connection

TODAY = date(2026, 11, 1)
# Greater Manchester is too small for the default 40 km between a perpetrator's new home
# and the victim's: nearer, so that the demo history has perpetrator moves to record.
NEAR_MOVES = '{"min_perpetrator_distance_km": 8}'


def history(settings: Settings, months: int, seed: int = 3) -> HistoryReport:
    migrate(settings.database_url)
    return asyncio.run(seed_history(settings, "demo", months, seed, today=TODAY))


def facts(conn: Connection) -> dict[str, Any]:
    """What the database holds, counted straight from the rows."""

    def count(stmt: Any) -> int:
        return int(conn.execute(stmt).scalar_one())

    unable = conn.execute(
        select(Referral.unable_reason, func.count())
        .where(Referral.outcome == "unable_to_support")
        .group_by(Referral.unable_reason)
    ).all()
    return {
        "referrals": count(select(func.count()).select_from(Referral)),
        "characterised": count(select(func.count()).select_from(ReferralCharacteristics)),
        "placements": count(select(func.count()).select_from(Placement)),
        "placed": count(select(func.count()).where(Referral.outcome == "placed")),
        "move-outs": count(select(func.count()).where(Placement.move_out_reason.is_not(None))),
        "moved out": count(select(func.count()).where(Placement.moved_out_at.is_not(None))),
        "offers": count(select(func.count()).select_from(Offer)),
        "offers declined": count(select(func.count()).where(Offer.status == "declined")),
        "perpetrator moves": count(
            select(func.count()).where(PerpetratorMove.status.in_(("accepted", "ended")))
        ),
        "perpetrator moved": count(
            select(func.count()).where(Referral.outcome == "perpetrator_moved")
        ),
        "perpetrator moves ended": count(
            select(func.count()).where(PerpetratorMove.status == "ended")
        ),
        "matches": count(select(func.count()).where(DecisionSnapshot.kind == "match")),
        "unable": {f"closed: {reason}": n for reason, n in unable},
        "first": conn.execute(select(func.min(Referral.created_at))).scalar_one(),
        "last": conn.execute(select(func.max(Placement.moved_in_at))).scalar_one(),
        "references": sorted(conn.execute(select(Referral.reference)).scalars()),
    }


def test_a_history_is_recorded_through_the_services(database_url: str, tmp_path: Path) -> None:
    settings = dataclasses.replace(
        settings_for(database_url, tmp_path), match_weights_json=NEAR_MOVES
    )
    report = history(settings, 2)
    counts = report.counts
    found = with_connection(database_url, facts)

    for kind in ("referrals", "placements", "move-outs", "offers declined", "perpetrator moves"):
        assert counts[kind] > 0, (kind, counts)
        assert found[kind] == counts[kind], kind
    assert found["characterised"] == found["referrals"]
    assert found["placed"] == found["placements"]  # one placement per placed household
    assert found["move-outs"] == found["moved out"]
    assert found["offers"] == counts["offers"]
    assert found["perpetrator moved"] == found["perpetrator moves"]
    assert found["perpetrator moves ended"] == counts["perpetrator moves ended"]
    assert found["matches"] == counts["matches"]
    assert found["unable"] == {k: v for k, v in counts.items() if k.startswith("closed: ")}
    assert any(k.startswith("closed: ") for k in counts)
    # Everything happened within the history's days, none of it today.
    start = datetime.combine(report.first_day, time(0), UTC)
    assert report.last_day == TODAY - timedelta(days=1)
    assert start <= found["first"] and found["last"] < datetime.combine(TODAY, time(0), UTC)

    async def check() -> None:
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                await check_records(conn)
        finally:
            await engine.dispose()

    asyncio.run(check())


def test_a_seed_gives_one_history(backend: str, tmp_path: Path, request: Any) -> None:
    if backend != "sqlite":
        pytest.skip("determinism is the generator's and the services', not the database's")
    runs = []
    for name in ("one", "two"):
        directory = tmp_path / name
        directory.mkdir()
        settings = settings_for(f"sqlite+aiosqlite:///{directory / 'h.db'}", directory)
        report = history(settings, 1, seed=5)
        found = with_connection(settings.database_url, facts)
        runs.append((dict(report.counts), found["references"], found["unable"]))
    assert runs[0] == runs[1]


def test_the_command_prints_what_it_wrote(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("PLACEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PLACEMENT_DATABASE_URL", raising=False)
    refused = CliRunner().invoke(main, ["seed", "--scale", "reference", "--history", "1"])
    assert refused.exit_code == 2 and "--history" in refused.output
    result = CliRunner().invoke(main, ["seed", "--history", "1", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "Recorded 1 months of history" in result.output and "referrals" in result.output
    again = CliRunner().invoke(main, ["seed", "--history", "1"])
    assert "nothing was seeded" in again.output and "No history was recorded" in again.output


def test_referrals_from_before_0009_get_their_characteristics(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PLACEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PLACEMENT_DATABASE_URL", raising=False)
    assert CliRunner().invoke(main, ["seed"]).exit_code == 0
    settings = Settings.from_env()

    def wipe(conn: Connection) -> dict[Any, tuple[Any, ...]]:
        rows = conn.execute(select(ReferralCharacteristics)).all()
        conn.execute(ReferralCharacteristics.__table__.delete())  # type: ignore[attr-defined]
        return {row[0]: tuple(row) for row in rows}

    before = with_connection(settings.database_url, wipe, commit=True)
    assert before  # the seed derived them
    result = CliRunner().invoke(main, ["backfill-characteristics"])
    assert result.exit_code == 0, result.output
    assert f"of {len(before)} referrals" in result.output

    def read(conn: Connection) -> dict[Any, tuple[Any, ...]]:
        return {row[0]: tuple(row) for row in conn.execute(select(ReferralCharacteristics))}

    assert with_connection(settings.database_url, read) == before
    again = CliRunner().invoke(main, ["backfill-characteristics"])
    assert "of 0 referrals" in again.output
