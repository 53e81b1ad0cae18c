"""Benchmark (not a test): how long the Part 4 report takes, in each format.

    python -m placement.reports.bench [--region NAME | --authority CODE] [--runs N]

Reads the database the settings name (`PLACEMENT_DATA_DIR`, `PLACEMENT_DATABASE_URL`),
e.g. after `placement seed --scale national --history 12`. Without an area it reports on
England. Prints the seconds of each run (computing the report from the records, then
rendering it), and the best of the runs per format.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.config import Settings
from placement.db import create_engine
from placement.reports import area as areas
from placement.reports import csv_output, html_output, part4
from placement.reports import period as periods
from placement.security import SYSTEM


async def run(authority: str | None, region: str | None, runs: int) -> None:
    settings = Settings.from_env()
    engine = create_engine(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    period = periods.choose(None, None)
    best: dict[str, float] = {}
    try:
        for _ in range(runs):
            for fmt in ("json", "csv", "html"):
                started = time.perf_counter()
                async with sessions() as session:
                    area = await areas.choose(session, SYSTEM, authority, region)
                    report = await part4.build(session, area, period)
                if fmt == "csv":
                    csv_output.render(report)
                elif fmt == "html":
                    html_output.render(report)
                seconds = time.perf_counter() - started
                best[fmt] = min(best.get(fmt, seconds), seconds)
                cells = sum(len(t.figures) for t in report.tables)
                what = f"{area.name} {period.start}..{period.end} {fmt}"
                print(f"{what}: {seconds:.2f} s ({cells} figures)")
    finally:
        await engine.dispose()
    print("best: " + ", ".join(f"{fmt} {seconds:.2f} s" for fmt, seconds in best.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--authority")
    parser.add_argument("--region")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.authority, args.region, args.runs))


if __name__ == "__main__":
    main()
