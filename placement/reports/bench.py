"""Benchmark (not a test): how long the Part 4 report takes, in each format.

    python -m placement.reports.bench [--region NAME | --authority CODE] [--runs N] [--keep-charts]

Reads the database the settings name (`PLACEMENT_DATA_DIR`, `PLACEMENT_DATABASE_URL`),
e.g. after `placement seed --scale national --history 12`. Without an area it reports on
England. Prints the seconds of each run (computing the report from the records, then
rendering it), and the best of the runs per format; beside each, the CPU seconds this
process spent (SQLite's work included, PostgreSQL's not), which a busy machine inflates
far less than the wall clock. Each HTML run draws its charts anew, as for a report never
read before, unless `--keep-charts` (then runs after the first show the charts drawn
once per set of figures, as a report read again does).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.config import Settings
from placement.db import create_engine
from placement.reports import area as areas
from placement.reports import charts, csv_output, html_output, part4
from placement.reports import period as periods
from placement.security import SYSTEM


async def run(authority: str | None, region: str | None, runs: int, keep_charts: bool) -> None:
    settings = Settings.from_env()
    engine = create_engine(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    period = periods.choose(None, None)
    best: dict[str, tuple[float, float]] = {}
    try:
        for _ in range(runs):
            for fmt in ("json", "csv", "html"):
                started, used = time.perf_counter(), time.process_time()
                async with sessions() as session:
                    area = await areas.choose(session, SYSTEM, authority, region)
                    report = await part4.build(session, area, period)
                if fmt == "csv":
                    csv_output.render(report)
                elif fmt == "html":
                    if not keep_charts:
                        charts.forget()
                    html_output.render(report)
                seconds = (time.perf_counter() - started, time.process_time() - used)
                best[fmt] = min(best.get(fmt, seconds), seconds)
                cells = sum(len(t.figures) for t in report.tables)
                what = f"{area.name} {period.start}..{period.end} {fmt}"
                print(f"{what}: {_seconds(seconds)} ({cells} figures)")
    finally:
        await engine.dispose()
    print("best: " + ", ".join(f"{fmt} {_seconds(s)}" for fmt, s in best.items()))


def _seconds(seconds: tuple[float, float]) -> str:
    wall, cpu = seconds
    return f"{wall:.2f} s (cpu {cpu:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--authority")
    parser.add_argument("--region")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-charts", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.authority, args.region, args.runs, args.keep_charts))


if __name__ == "__main__":
    main()
