"""Run times of a simulated year per scale, as an operator would run it.

Runs ``placement simulate`` in a fresh interpreter per scale (the registries and
household mixes are the synthetic fixtures', which this package does not import) and
prints, per scale, the wall time of the whole command (data generation, every policy,
the hindsight bound) and each policy's run time, ratio to the hindsight bound and gain
on first come first served. Figures, not pass/fail: the machine is shared and noisy.

    python -m simulation.bench [--scales demo,region] [--days 365] [--policy fcfs,batch]
"""

import argparse
import json
import subprocess
import sys
import time


def measure(scale: str, days: int, policy: str, seeds: int) -> list[dict[str, object]]:
    command = [
        sys.executable, "-m", "placement", "simulate", "--scale", scale, "--days", str(days),
        "--policy", policy, "--seeds", str(seeds), "--json",
    ]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.monotonic() - start
    rows: list[dict[str, object]] = [json.loads(line) for line in done.stdout.splitlines()]
    return [{"wall_seconds": round(seconds, 1), **row} for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="demo,region")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--policy", default="fcfs,batch")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    args = parser.parse_args(argv)
    for scale in args.scales.split(","):
        for row in measure(scale, args.days, args.policy, args.seeds):
            if args.json:
                print(json.dumps(row), flush=True)
                continue
            print(
                f"{scale:9} {row['policy']:11} whole command {row['wall_seconds']:7.1f} s  "
                f"run {row['seconds_per_run']:7.2f} s  ratio {row['ratio']}  "
                f"gain on FCFS {row['gain_vs_fcfs_pct']}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
