"""The benchmark runs the command it times and prints a line per scale and policy."""

import json

import pytest

from simulation.bench import main


def test_the_benchmark_prints_each_policys_figures(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--scales", "demo", "--days", "10", "--policy", "fcfs,batch", "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["scale"], r["policy"]) for r in rows] == [("demo", "fcfs"), ("demo", "batch")]
    assert all(r["wall_seconds"] > 0 and r["seconds_per_run"] >= 0 for r in rows)
