"""Benchmark: ``python -m optimiser.bench [--json] [--sizes small,regional,national]
[--time-limit S] [--engine mip|cpsat] [--seed N] [--option-units 10000,100000]``.

For each instance size: the allocator's time, status, gap and priority-weighted cases
resolved, beside two baselines on the same instance, first-come-first-served (today's
way by hand) and the transportation relaxation without caps or keep-apart (a bound).
Then options for one household over the national register of 10,000 units and over
100,000 (``--option-units``). Not a test:
run it by hand, on a quiet machine, and quote it.
"""

import argparse
import json
import resource
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from optimiser.allocation import allocate
from optimiser.bench_instances import SIZES, instance
from optimiser.candidates import build_candidates
from optimiser.flow import solve_flow
from optimiser.greedy import greedy
from optimiser.options import options_for_household
from optimiser.priority import PRIORITY_SCALE
from optimiser.protocols import CheckedProtocols
from optimiser.unit_table import UnitTable

OPTION_REQUESTS = 200


def peak_rss_mb() -> int:
    """The process's peak resident memory so far (Linux reports kilobytes): per size only
    when each size runs in its own process, since a peak never falls."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def allocation_row(name: str, seed: int, time_limit_s: float, engine: str) -> dict[str, Any]:
    problem = instance(name, seed)
    result = allocate(problem, time_limit_s, engine=engine)

    started = time.monotonic()
    c = build_candidates(problem)
    fcfs = greedy(problem, c)
    greedy_seconds = time.monotonic() - started
    started = time.monotonic()
    c = build_candidates(problem)
    relaxed = solve_flow(c, c.dominance_scale)
    relaxation_seconds = time.monotonic() - started

    def weighted(pairs: Any) -> float:
        return int(c.priority[c.household[pairs]].sum()) / PRIORITY_SCALE

    with_options = np.unique(c.household)
    suitable = [t for t in np.unique(c.target) if c.targets[t].option_id is None]
    gain = result.weighted_placed - weighted(fcfs)
    return {
        "instance": name,
        "households": len(problem.households),
        "units": len(problem.units),
        "engine": engine,
        "seconds": round(result.seconds, 3),
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "peak_rss_mb": peak_rss_mb(),
        "candidate_pairs": len(c.household),
        "weighted_placed": result.weighted_placed,
        "weighted_placed_bound": result.weighted_placed_bound,
        "placed": result.placed,
        "perpetrator_moves": result.perpetrator_moves,
        "greedy_seconds": round(greedy_seconds, 3),
        "greedy_weighted_placed": weighted(fcfs),
        "greedy_placed": len(fcfs),
        "gain_weighted": round(gain, 2),
        "gain_pct": round(100 * gain / weighted(fcfs), 1) if fcfs else None,
        "relaxation_seconds": round(relaxation_seconds, 3),
        "relaxation_weighted_placed": weighted(relaxed),
        "relaxation_placed": len(relaxed),
        "households_with_suitable_units": len(with_options),
        "suitable_units": int(c.capacity[suitable].sum()),
    }


def options_row(seed: int, units: int) -> dict[str, Any]:
    problem = instance("national", seed, units=units)
    table = UnitTable.from_units(problem.units)
    checked = CheckedProtocols.of(problem.protocols)  # once, as the service's snapshot does
    timings = []
    for household in problem.households[:OPTION_REQUESTS]:
        started = time.perf_counter()
        options_for_household(table, household, checked, problem.weights, problem.as_of)
        timings.append(time.perf_counter() - started)
    return {
        "instance": "options",
        "units": len(table),
        "requests": len(timings),
        "median_ms": round(1000 * statistics.median(timings), 3),
        "p95_ms": round(1000 * float(np.percentile(timings, 95)), 3),
    }


def rows(
    sizes: list[str], seed: int, time_limit_s: float, engine: str, option_units: list[int]
) -> Iterator[dict[str, Any]]:
    for name in sizes:
        yield allocation_row(name, seed, time_limit_s, engine)
    for units in option_units:
        yield options_row(seed, units)


def describe(row: dict[str, Any]) -> str:
    if row["instance"] == "options":
        return (
            f"options: {row['requests']} households x {row['units']} units, "
            f"median {row['median_ms']} ms, p95 {row['p95_ms']} ms"
        )
    return (
        f"{row['instance']}: {row['households']} households x {row['units']} units "
        f"({row['households_with_suitable_units']} with a suitable unit, "
        f"{row['suitable_units']} suitable units, {row['candidate_pairs']} candidate pairs, "
        f"peak {row['peak_rss_mb']} MB)\n"
        f"  {row['engine']:<9} {row['seconds']:>7.2f} s  {row['status']:<8} "
        f"gap {row['gap']:.4%}  weighted {row['weighted_placed']:>8.2f}  "
        f"placed {row['placed']} ({row['perpetrator_moves']} perpetrator moves)\n"
        f"  greedy    {row['greedy_seconds']:>7.2f} s  "
        f"weighted {row['greedy_weighted_placed']:>8.2f}  placed {row['greedy_placed']}  "
        f"(optimiser gains {row['gain_weighted']}, {row['gain_pct']}%)\n"
        f"  relaxed   {row['relaxation_seconds']:>7.2f} s  bound without caps or keep-apart: "
        f"weighted {row['relaxation_weighted_placed']:>8.2f}  "
        f"placed {row['relaxation_placed']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m optimiser.bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--sizes", default="small,regional,national")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--engine", choices=("mip", "cpsat"), default="mip")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--option-units",
        default="10000,100000",
        help="register sizes for the options timing (national geography), comma-separated",
    )
    args = parser.parse_args(argv)
    option_units = [int(n) for n in args.option_units.split(",") if n]
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    for row in rows(sizes, args.seed, args.time_limit, args.engine, option_units):
        print(json.dumps(row) if args.json else describe(row), flush=True)


if __name__ == "__main__":
    main()
